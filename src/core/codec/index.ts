export { ByteReader, DecodeError, safeDecode } from './byte-reader.ts';
export { ByteWriter } from './byte-writer.ts';
