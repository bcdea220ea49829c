import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON, torchReady } from './python';

/**
 * `training/deepen.py` grows the U-Net by one residual block per level so that a CPU stage can
 * keep training a larger network from where the shipped one is. That is only sound if the
 * deepened network computes exactly what the original did; otherwise the first steps would
 * undo what the earlier stages learned. Checked on networks whose weights are all random
 * (no zero-initialised layer hiding a wrong wiring), for one and for two blocks per level.
 */

const work = mkdtempSync(join(tmpdir(), 'inpaint-ct-deepen-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CHECK = String.raw`
import json, sys, torch
sys.path.insert(0, 'training')
from unet import CHANNELS, InpaintUNet, count_params
from deepen import deepen
out = []
for blocks in (1, 2):
    torch.manual_seed(blocks)
    old = InpaintUNet(in_ch=len(CHANNELS), base=8, mults=(1, 2, 2), blocks=blocks, dropout=0.0)
    with torch.no_grad():
        for p in old.parameters():
            p.normal_(0, 0.1)
    old.eval()
    new = deepen(old).eval()
    x = torch.randn(2, len(CHANNELS), 32, 32)
    t = torch.tensor([20.0, 700.0])
    with torch.no_grad():
        a, b = old(x, t), new(x, t)
    out.append({'blocks': new.config['blocks'], 'difference': float((a - b).abs().max()), 'scale': float(a.abs().max()),
                'grew': count_params(new) > count_params(old)})
print(json.dumps(out))
`;

const WRITE = String.raw`
import sys, torch
sys.path.insert(0, 'training')
from unet import CHANNELS, InpaintUNet
m = InpaintUNet(in_ch=len(CHANNELS), base=8, mults=(1, 2), blocks=1, dropout=0.0)
torch.save({'ema': m.state_dict(), 'model': m.state_dict(), 'model_config': m.config, 'prediction': 'v', 'info': {'steps': 5}}, sys.argv[1])
`;

const READ = String.raw`
import json, sys, torch
ck = torch.load(sys.argv[1], map_location='cpu')
print(json.dumps({'blocks': ck['model_config']['blocks'], 'prediction': ck['prediction'], 'steps': ck['info']['steps'], 'deepenedFrom': ck['info']['deepenedFrom']}))
`;

describe.skipIf(!torchReady)(`training/deepen.py (needs ${PYTHON} with python3-torch, which .ci/run does not install)`, () => {
  it('adds a residual block per level and leaves the output unchanged', () => {
    const run = spawnSync(PYTHON, ['-c', CHECK], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const results = JSON.parse(run.stdout) as { blocks: number; difference: number; scale: number; grew: boolean }[];
    expect(results.map((r) => r.blocks)).toEqual([2, 3]);
    for (const r of results) {
      expect(r.grew).toBe(true);
      expect(r.scale).toBeGreaterThan(0.01); // a network that outputs nothing would agree trivially
      expect(r.difference).toBeLessThan(1e-5);
    }
  }, 60_000);

  it('writes a checkpoint that train.py --init-from reads, saying what it was deepened from', () => {
    const src = join(work, 'src.pt');
    const dst = join(work, 'deep', 'init.pt');
    expect(spawnSync(PYTHON, ['-c', WRITE, src], { encoding: 'utf8' }).status).toBe(0);
    const run = spawnSync(PYTHON, ['training/deepen.py', '--checkpoint', src, '--out', dst], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const read = spawnSync(PYTHON, ['-c', READ, dst], { encoding: 'utf8' });
    expect(read.status, read.stderr).toBe(0);
    const ck = JSON.parse(read.stdout) as { blocks: number; prediction: string; steps: number; deepenedFrom: { blocks: number; largestDifference: number } };
    expect(ck).toMatchObject({ blocks: 2, prediction: 'v', steps: 5 });
    expect(ck.deepenedFrom.blocks).toBe(1);
    expect(ck.deepenedFrom.largestDifference).toBeLessThan(1e-5);
  }, 60_000);
});
