// Self-signed TLS certificate for the local DPS emulator, made fresh at each start.

import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import selfsigned from 'selfsigned';

/** Validity of a generated certificate, in days from now. */
export const CERTIFICATE_VALIDITY_DAYS = 30;

/** Host names and addresses every certificate covers. */
export const LOOPBACK_SUBJECT_NAMES = Object.freeze(['localhost', '127.0.0.1', '::1']);

/**
 * Creates a self-signed server certificate for localhost, 127.0.0.1, ::1 and any extra names.
 *
 * The key is ECDSA P-256 because it costs an ESP32's mbedTLS less heap and time than RSA, and Node accepts it.
 * Validity follows the host's real clock, not the emulator's pinned clock, because TLS clients check it against theirs.
 *
 * @param {string[]} [extraSubjectNames] More DNS names or IP addresses to put in subjectAltName, such as a LAN address.
 * @returns {Promise<{ certificatePem: string, privateKeyPem: string, fingerprintSha256: string }>} PEM texts and the
 *   certificate's SHA-256 fingerprint as colon-separated hex.
 */
export async function createCertificate(extraSubjectNames = []) {
  const subjectNames = [...new Set([...LOOPBACK_SUBJECT_NAMES, ...extraSubjectNames])];
  const altNames = subjectNames.map((name) => (isIP(name) === 0 ? { type: 2, value: name } : { type: 7, ip: name }));

  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const notAfterDate = new Date(Date.now() + CERTIFICATE_VALIDITY_DAYS * 24 * 60 * 60 * 1000);

  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });

  const fingerprintSha256 = new X509Certificate(pems.cert).fingerprint256;
  return { certificatePem: pems.cert, privateKeyPem: pems.private, fingerprintSha256 };
}
