import {
  createCaCertificate,
  exportPrivateKeyPem,
  generateEcKeyPair,
  generateRsaKeyPair,
  issueCertificate,
  type KeyPair,
  type Validity,
  validFor,
} from "@tessera/server/internal/certificates/generate.ts";

export interface ClientCredentials {
  cert: string;
  key: string;
}

export interface Authority {
  certificatePem: string;
  keys: KeyPair;
}

/**
 * Real certificates made at test time. RSA-4096 keys take seconds to generate, so each test
 * file makes one kit (two 4096-bit keys) and issues every certificate it needs from it.
 */
export interface CertificateKit {
  /** RSA-4096 root, the CA tests trust. */
  root: Authority;
  /** RSA-2048 root: certificates under it fail the root-strength rule. */
  weakRoot: Authority;
  /** An RSA-4096 root no org trusts (it reuses the leaf key: a key is just a key). */
  untrustedRoot: Authority;
  /** The RSA-4096 key pair of every "rsa4096" leaf: a leaf certificate plus these keys can act as an issuer. */
  leafKeys: KeyPair;
  /** A client certificate for `cn` under `issuer` with a key of the given kind. */
  issue(options: {
    cn: string;
    issuer?: Authority;
    key?: "rsa4096" | "rsa2048" | "ec";
    validity?: Validity;
    /** Appends the issuer certificate to the presented chain. */
    withChain?: string[];
    /** extendedKeyUsage clientAuth (the default) or serverAuth only. */
    usage?: "client" | "server";
    /** basicConstraints CA:TRUE on the leaf, without keyUsage (a misissued client certificate). */
    markedAsCa?: boolean;
    /** No keyUsage extension. */
    withoutKeyUsage?: boolean;
  }): Promise<ClientCredentials>;
  /** An RSA-4096 intermediate CA under `issuer`, with a pathLenConstraint when given. */
  intermediate(issuer: Authority, name: string, options?: { pathLength?: number }): Promise<Authority>;
  /** Another self-signed RSA-4096 root (the test root's key), with a pathLenConstraint when given. */
  authority(name: string, options?: { pathLength?: number }): Promise<Authority>;
}

export async function makeCertificateKit(): Promise<CertificateKit> {
  const [rootKeys, leaf4096, leaf2048, weakRootKeys, ec] = await Promise.all([
    generateRsaKeyPair(4096),
    generateRsaKeyPair(4096),
    generateRsaKeyPair(2048),
    generateRsaKeyPair(2048),
    generateEcKeyPair(),
  ]);
  const authority = async (keys: KeyPair, name: string, pathLength?: number): Promise<Authority> => ({
    keys,
    certificatePem: await createCaCertificate({ keys, commonName: name, validity: validFor(365), pathLength }),
  });
  const root = await authority(rootKeys, "Test Root CA");
  const weakRoot = await authority(weakRootKeys, "Weak Root CA");
  const untrustedRoot = await authority(leaf4096, "Untrusted Root CA");
  const keyPairs = { rsa4096: leaf4096, rsa2048: leaf2048, ec };
  const privatePems = {
    rsa4096: await exportPrivateKeyPem(leaf4096.privateKey),
    rsa2048: await exportPrivateKeyPem(leaf2048.privateKey),
    ec: await exportPrivateKeyPem(ec.privateKey),
  };
  return {
    root,
    weakRoot,
    untrustedRoot,
    leafKeys: leaf4096,
    async issue({
      cn,
      issuer = root,
      key = "rsa4096",
      validity = validFor(30),
      withChain = [],
      usage = "client",
      markedAsCa = false,
      withoutKeyUsage = false,
    }) {
      const cert = await issueCertificate({
        issuerCertificatePem: issuer.certificatePem,
        issuerPrivateKey: issuer.keys.privateKey,
        subjectPublicKey: keyPairs[key].publicKey,
        commonName: cn,
        validity,
        usage,
        leafProfile: { ca: markedAsCa, keyUsage: !(markedAsCa || withoutKeyUsage) },
      });
      return { cert: `${[cert, ...withChain].map((pem) => pem.trim()).join("\n")}\n`, key: privatePems[key] };
    },
    async intermediate(issuer, name, options = {}) {
      const certificatePem = await issueCertificate({
        issuerCertificatePem: issuer.certificatePem,
        issuerPrivateKey: issuer.keys.privateKey,
        subjectPublicKey: rootKeys.publicKey,
        commonName: name,
        validity: validFor(365),
        usage: "ca",
        pathLength: options.pathLength,
      });
      return { certificatePem, keys: rootKeys };
    },
    authority: (name, options = {}) => authority(rootKeys, name, options.pathLength),
  };
}
