import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a tiny brain-extraction "network" as ONNX, encoded by hand (the protobuf subset ONNX
 * needs is small), with its manifest: it computes per pixel
 *   p = sigmoid(k (hu - lowHu)) * sigmoid(k (highHu - hu))
 * i.e. the probability that a pixel is soft tissue. Not CT_BET (no trained weights exist here);
 * it exercises the real model path: manifest, checksum, ONNX Runtime, batching, pad/crop,
 * intensity mapping and the post-processing.
 */

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

type Field = number[];
const key = (field: number, wire: number) => varint((field << 3) | wire);
const intField = (field: number, value: number): Field => [...key(field, 0), ...varint(value)];
const bytesField = (field: number, bytes: number[] | Uint8Array): Field => [...key(field, 2), ...varint(bytes.length), ...bytes];
const strField = (field: number, s: string): Field => bytesField(field, [...Buffer.from(s, 'utf8')]);
const msg = (...fields: Field[]): number[] => fields.flat();

function dim(d: number | string): number[] {
  return typeof d === 'number' ? msg(intField(1, d)) : msg(strField(2, d));
}

function valueInfo(name: string, shape: (number | string)[]): number[] {
  const tensorShape = msg(...shape.map((d) => bytesField(1, dim(d))));
  const tensorType = msg(intField(1, 1 /* FLOAT */), bytesField(2, tensorShape));
  return msg(strField(1, name), bytesField(2, msg(bytesField(1, tensorType))));
}

function scalar(name: string, value: number): number[] {
  const raw = new Uint8Array(new Float32Array([value]).buffer);
  return msg(intField(2, 1 /* FLOAT */), strField(8, name), bytesField(9, raw));
}

function node(op: string, inputs: string[], output: string): number[] {
  return msg(...inputs.map((i) => strField(1, i)), strField(2, output), strField(3, `${op}_${output}`), strField(4, op));
}

export function tinyBetOnnx(lowHu: number, highHu: number, steepness: number, shape: (number | string)[]): Uint8Array {
  const nodes = [
    node('Sub', ['image', 'low'], 'a'),
    node('Mul', ['a', 'k'], 'b'),
    node('Sigmoid', ['b'], 'sa'),
    node('Sub', ['high', 'image'], 'c'),
    node('Mul', ['c', 'k'], 'd'),
    node('Sigmoid', ['d'], 'sb'),
    node('Mul', ['sa', 'sb'], 'prob'),
  ];
  const graph = msg(
    ...nodes.map((n) => bytesField(1, n)),
    strField(2, 'tiny_bet'),
    bytesField(5, scalar('low', lowHu)),
    bytesField(5, scalar('high', highHu)),
    bytesField(5, scalar('k', steepness)),
    bytesField(11, valueInfo('image', shape)),
    bytesField(12, valueInfo('prob', shape)),
  );
  const opset = msg(strField(1, ''), intField(2, 13));
  return Uint8Array.from(msg(intField(1, 8), strField(2, 'inpaint-ct tests'), bytesField(7, graph), bytesField(8, opset)));
}

/** Writes models/<id>/{model.onnx, model.json} under `modelsDir`; returns the model folder. */
export function writeTinyBetModel(modelsDir: string, id: string, { fixed512 = false, lowHu = -15, highHu = 120 } = {}): string {
  const dir = join(modelsDir, id);
  mkdirSync(dir, { recursive: true });
  const shape: (number | string)[] = fixed512 ? ['batch', 1, 512, 512] : ['batch', 1, 'height', 'width'];
  const onnx = tinyBetOnnx(lowHu, highHu, 0.5, shape);
  writeFileSync(join(dir, 'model.onnx'), onnx);
  const manifest = {
    schemaVersion: 1,
    id,
    version: '0.0.1',
    kind: 'brain-extraction',
    file: 'model.onnx',
    sha256: createHash('sha256').update(onnx).digest('hex'),
    io: { inputs: { image: { name: 'image', shape, dtype: 'float32' } }, output: { name: 'prob', shape, dtype: 'float32' } },
    imageSize: fixed512 ? { mode: 'fixed', height: 512, width: 512 } : { mode: 'fullyConvolutional', multiple: 1, trainedSize: 512 },
    // The network sees HU: a 4096 HU window mapped back onto [-2048, 2048].
    intensity: { window: { centerHu: 0, widthHu: 4096 }, windowedRange: [0, 1], networkRange: [-2048, 2048] },
    maskOutput: { activation: 'none', threshold: 0.5 },
    card: {
      description: 'Test stand-in for a CT_BET-like brain extraction network: a soft-tissue HU band, no learned weights.',
      trainingData: 'none',
      intendedUse: 'unit tests of the model brain-extraction path only',
    },
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest, null, 2));
  return dir;
}
