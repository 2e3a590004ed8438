import type { X509Certificate } from "node:crypto";
import { TesseraError } from "../errors/tessera-error.ts";
import { clientAuthOid, readExtensions, UnreadableCertificateError } from "./certificate-extensions.ts";
import { checkKeyStrength, checkValidity, type VerifiedChain } from "./client-chain.ts";

/**
 * Every rule a client certificate's path must pass once its signatures reach a trusted CA, in
 * their order: the issuers' constraints (RFC 5280 §4.2.1.3, §4.2.1.9, §6.1.4), validity, key
 * strength, then the leaf's own purpose. The pod and key-manager logins both come here.
 */
export function validateClientPath(chain: VerifiedChain, now: number): void {
  checkIssuers(chain.path);
  checkValidity(chain.path, now);
  checkKeyStrength([...chain.path, ...chain.above]);
  checkClientLeaf(chain.path[0]);
}

/**
 * Whether a lone certificate (an application's manifest) could authenticate a client now:
 * inside its validity period and fit for client authentication by the leaf rules above.
 */
export function isUsableClientCertificate(certificate: X509Certificate, now: number): boolean {
  try {
    checkValidity([certificate], now);
    checkClientLeaf(certificate);
    return true;
  } catch (error) {
    if (error instanceof TesseraError) return false;
    throw error;
  }
}

function extensionsOf(certificate: X509Certificate, which: string) {
  try {
    return readExtensions(certificate);
  } catch (error) {
    if (error instanceof UnreadableCertificateError) {
      throw new TesseraError("certificate_untrusted", `${which}: ${error.message}`);
    }
    throw error;
  }
}

function describe(certificate: X509Certificate): string {
  return `"${certificate.subject.replace(/\n/g, ", ")}"`;
}

/** A certificate whose subject and issuer names are the same (a root, or a CA's re-keyed self). */
function isSelfIssued(certificate: X509Certificate): boolean {
  return certificate.subject === certificate.issuer;
}

/**
 * Each certificate above the leaf issued the one below it, so each must be a CA allowed to sign
 * certificates, and its pathLenConstraint must allow the non-self-issued intermediates between
 * it and the leaf. The trusted CA at the top counts too: an org that trusts a root with
 * pathlen:0 asked for leaves directly under it. keyUsage is optional on that CA (old roots lack
 * it) but required on intermediates, as RFC 5280 §4.2.1.3 requires of every CA that signs
 * certificates: a client certificate wrongly marked CA:TRUE cannot then mint certificates for
 * other service users.
 */
function checkIssuers(path: readonly X509Certificate[]): void {
  let intermediatesBelow = 0;
  for (let index = 1; index < path.length; index++) {
    const issuer = path[index] as X509Certificate;
    const isAnchor = index === path.length - 1;
    const extensions = extensionsOf(issuer, `The CA certificate ${describe(issuer)}`);
    if (!extensions.basicConstraints?.ca) {
      throw new TesseraError(
        "certificate_issuer_not_ca",
        `${describe(issuer)} issued a certificate of the chain but is not a CA (basicConstraints cA=TRUE)`,
      );
    }
    if (extensions.keyUsage ? !extensions.keyUsage.has("keyCertSign") : !isAnchor) {
      throw new TesseraError(
        "certificate_issuer_cannot_sign",
        extensions.keyUsage
          ? `The keyUsage of ${describe(issuer)} does not include keyCertSign`
          : `The intermediate ${describe(issuer)} has no keyUsage; a CA that issues certificates must carry keyCertSign`,
      );
    }
    const limit = extensions.basicConstraints.pathLength;
    if (limit !== undefined && intermediatesBelow > limit) {
      throw new TesseraError(
        "certificate_path_too_long",
        `${describe(issuer)} allows ${limit} intermediate(s) below it (pathLenConstraint); the chain has ${intermediatesBelow}`,
      );
    }
    if (!isSelfIssued(issuer)) intermediatesBelow++;
  }
}

/** The leaf authenticates a client: not a CA, and clientAuth among its extendedKeyUsage when it has one. */
function checkClientLeaf(leaf: X509Certificate | undefined): void {
  if (!leaf) throw new TesseraError("client_certificate_required");
  const extensions = extensionsOf(leaf, "The client certificate");
  if (extensions.basicConstraints?.ca) {
    throw new TesseraError(
      "certificate_leaf_is_ca",
      "The client certificate is a CA certificate (basicConstraints cA=TRUE); log in with an end-entity certificate",
    );
  }
  const purposes = extensions.extendedKeyUsage;
  if (purposes && !purposes.includes(clientAuthOid)) {
    throw new TesseraError(
      "certificate_not_for_client_auth",
      "The client certificate's extendedKeyUsage does not include clientAuth (1.3.6.1.5.5.7.3.2)",
    );
  }
}
