import { calculateJwkThumbprint, exportJWK, exportSPKI, generateKeyPair, type JWK } from "jose";

/** One RSA signing key with everything the emulator needs to publish and abuse it. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Public JWK with `kid`, `alg: "RS256"`, `use: "sig"`. */
  publicJwk: JWK;
  /** SPKI PEM of the public key (the classic HMAC-confusion secret). */
  publicPem: string;
}

export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = (await calculateJwkThumbprint(jwk)).slice(0, 24);
  const publicJwk: JWK = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, publicKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

/** The emulator's keys: the last one signs; all are published until retired. */
export class KeyStore {
  private keys: SigningKey[];
  private foreign: Promise<SigningKey> | undefined;

  private constructor(first: SigningKey) {
    this.keys = [first];
  }

  static async create(): Promise<KeyStore> {
    return new KeyStore(await createSigningKey());
  }

  get current(): SigningKey {
    return this.keys[this.keys.length - 1] as SigningKey;
  }

  get published(): readonly SigningKey[] {
    return this.keys;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }

  async rotate(): Promise<void> {
    this.keys.push(await createSigningKey());
  }

  retireOld(): void {
    this.keys = [this.current];
  }

  /** A key never published in the JWKS, created on first use and then stable. */
  foreignKey(): Promise<SigningKey> {
    this.foreign ??= createSigningKey();
    return this.foreign;
  }
}
