/** A zstd body that cannot be decoded; the stone layer turns it into a located StoneError. */
export class ZstdError extends Error {
  readonly zstdCode?: string;
  constructor(message: string, zstdCode?: string) {
    super(message);
    this.zstdCode = zstdCode;
  }
}
