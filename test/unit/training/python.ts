import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The training code runs on Debian's Python (python3-numpy, installed by .ci/run), not the `python3` on PATH. */
export const PYTHON = '/usr/bin/python3';
export const numpyReady = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
/** PyTorch (Debian's python3-torch) is for training only; .ci/run does not install it, so tests that need it skip there. */
export const torchReady = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
