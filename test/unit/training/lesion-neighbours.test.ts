import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { numpyReady, PYTHON } from './python';

/**
 * `train.py --lesion-neighbours` paints a lesion into the slices above and below (and around the
 * hole) so the model learns not to copy one into its healthy repainting. The truth it is trained
 * to produce must stay healthy, the hole itself must stay unseen, and nothing may be painted
 * outside the brain; otherwise the model would learn to repaint lesions, the opposite of the aim.
 * Needs /usr/bin/python3 with python3-numpy (installed by .ci/run).
 */

const CHECK = String.raw`
import json, sys
import numpy as np
sys.path.insert(0, 'training')
from data import ExampleSampler, Subject
from units import to_network

rng = np.random.default_rng(3)
depth, side = 5, 256
images = np.clip(0.4 + 0.05 * rng.standard_normal((depth, side, side)), 0, 1)
masks = np.zeros((depth, side, side), dtype=bool)
masks[:, 40:216, 50:206] = True
subject = Subject('s', images, masks, 200)
report = {'painted': 0, 'truthChanged': 0, 'holeSeen': 0, 'outsideBrain': 0, 'neighbourChanged': 0, 'ringChanged': 0, 'total': 0}
sampler = ExampleSampler([subject], 11, p_jitter=0.0, p_drop_neighbour=0.0, flip=False, p_lesion=1.0)
for _ in range(60):
    img = images[2, 60:124, 70:134].astype(np.float32)
    brain = masks[2, 60:124, 70:134].astype(np.float32)
    brain[:, :8] = 0  # a brain edge inside the crop
    above = images[3, 60:124, 70:134].astype(np.float32)
    below = images[1, 60:124, 70:134].astype(np.float32)
    hole = np.zeros((64, 64), dtype=bool)
    hole[16:48, 16:48] = True
    cond, x0, h, init = sampler._finish(img, brain, above, below, hole)
    report['total'] += 1
    if not np.allclose(x0[0], to_network(img), atol=1e-6):
        report['truthChanged'] += 1
    if not np.allclose(cond[1][hole], to_network(0.0)):
        report['holeSeen'] += 1
    changed = [np.abs(cond[4] - to_network(above)) > 1e-6, np.abs(cond[5] - to_network(below)) > 1e-6, (np.abs(cond[1] - to_network(img)) > 1e-6) & ~hole]
    if any((c & (brain == 0)).any() for c in changed):
        report['outsideBrain'] += 1
    if changed[0].any() or changed[1].any():
        report['neighbourChanged'] += 1
    if changed[2].any():
        report['ringChanged'] += 1
    inside = hole & (brain > 0)
    if (changed[0] & inside).any() or (changed[1] & inside).any():
        report['painted'] += 1
# --lesion-hypodense 1: every painted lesion is darker than the slice it is painted into.
dark = ExampleSampler([subject], 12, p_jitter=0.0, p_drop_neighbour=0.0, flip=False, p_lesion=1.0, p_hypodense=1.0)
report['brighter'] = 0
for _ in range(30):
    cond, x0, h, init = dark._finish(img, brain, above, below, hole)
    if (cond[4] - to_network(above) > 1e-6).any() or (cond[5] - to_network(below) > 1e-6).any():
        report['brighter'] += 1
print(json.dumps(report))
`;

describe.skipIf(!numpyReady)(`training lesions in the neighbour slices (needs ${PYTHON} with python3-numpy)`, () => {
  it('paints the neighbours and the ring around the hole, never the truth, the hole or outside the brain', () => {
    const run = spawnSync(PYTHON, ['-c', CHECK], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as Record<string, number>;
    expect(r.total).toBe(60);
    expect(r.truthChanged).toBe(0);
    expect(r.holeSeen).toBe(0);
    expect(r.outsideBrain).toBe(0);
    // Every example drew a lesion (p 1); each reaches a neighbour right where the model repaints.
    expect(r.neighbourChanged).toBe(60);
    expect(r.painted).toBe(60);
    // Half of them also show it around the hole, as a lesion larger than the square does.
    expect(r.ringChanged).toBeGreaterThan(15);
    expect(r.ringChanged).toBeLessThan(45);
    // The default share is 40% hypodense; at 100% no painted lesion brightens a neighbour.
    expect(r.brighter).toBe(0);
  });
});
