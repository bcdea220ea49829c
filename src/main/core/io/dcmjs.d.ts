/**
 * The slice of dcmjs (which ships no type declarations) that core/io uses. Datasets are kept
 * loosely typed: dcmjs' naturalized datasets are plain objects keyed by DICOM keyword.
 */
declare module 'dcmjs' {
  /* eslint-disable @typescript-eslint/no-explicit-any */
  export interface DicomTagEntry {
    vr: string;
    Value?: any[];
  }
  export type DicomTagDict = Record<string, DicomTagEntry>;

  export class ReadBufferStream {
    constructor(buffer: ArrayBuffer, littleEndian?: boolean | null, options?: { start?: number; stop?: number; noCopy?: boolean });
    offset: number;
    size: number;
    /** The original end of the data (size grows when a read runs past it). */
    endOffset: number;
    end(): boolean;
    reset(): this;
    increment(n: number): this;
    setEndian(littleEndian: boolean): void;
  }
  export class WriteBufferStream {
    constructor(defaultSize: number, littleEndian?: boolean);
    size: number;
    getBuffer(start?: number, end?: number): ArrayBuffer;
  }
  export class DicomDict {
    constructor(meta: DicomTagDict);
    meta: DicomTagDict;
    dict: DicomTagDict;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  export class DicomMessage {
    static readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string | null; includeUntilTagValue?: boolean; noCopy?: boolean; forceStoreRaw?: boolean }): DicomDict;
    static write(dict: DicomTagDict, stream: WriteBufferStream, syntax: string, options?: Record<string, unknown>): number;
    static _read(stream: ReadBufferStream, syntax: string, options?: Record<string, unknown>): DicomTagDict;
  }
  export class DicomMetaDictionary {
    static naturalizeDataset(dict: DicomTagDict): Record<string, any>;
    static denaturalizeDataset(dataset: Record<string, any>): DicomTagDict;
    static uid(): string;
    static nameMap: Record<string, { tag: string; vr: string; name: string; vm: string }>;
    static dictionary: Record<string, { tag: string; vr: string; name: string; vm: string }>;
  }
  export const data: {
    ReadBufferStream: typeof ReadBufferStream;
    WriteBufferStream: typeof WriteBufferStream;
    DicomDict: typeof DicomDict;
    DicomMessage: typeof DicomMessage;
    DicomMetaDictionary: typeof DicomMetaDictionary;
  };
  export interface Logger {
    setLevel(level: string | number): void;
    getLevel(): number;
    getLogger(name: string): Logger;
  }
  export const log: Logger;
  const dcmjs: { data: typeof data; log: typeof log };
  export default dcmjs;
}
