// Masking of secrets (keys, signatures, tokens) for terminal output.

/** Characters shown at the start and at the end of a masked secret. */
export const MASK_VISIBLE_PREFIX_LENGTH = 4;
export const MASK_VISIBLE_SUFFIX_LENGTH = 2;

/** Secrets shorter than this many characters are masked completely, because 6 visible characters would be most of them. */
const MIN_PARTLY_SHOWN_LENGTH = 16;

/**
 * Masks a secret so that a user can recognise it without it being usable.
 *
 * The mask contains "...", which is not Base64, so a masked key pasted into a configuration file fails the Base64
 * check instead of producing a wrong key.
 *
 * @param {string} secret Key, signature or other secret text.
 * @returns {string} The first 4 and last 2 characters around "...", e.g. "rWjb...U=", or "[masked]" for short text.
 */
export function maskSecret(secret) {
  if (secret.length < MIN_PARTLY_SHOWN_LENGTH) return "[masked]";
  return secret.slice(0, MASK_VISIBLE_PREFIX_LENGTH) + "..." + secret.slice(secret.length - MASK_VISIBLE_SUFFIX_LENGTH);
}

/**
 * Masks the `sig` parameter of a SAS token and keeps the other parameters readable.
 *
 * @param {string} token "SharedAccessSignature sr=...&sig=...&se=...[&skn=...]".
 * @returns {string} The same token with the `sig` value masked by `maskSecret`.
 */
export function maskSasToken(token) {
  return token.replace(/((?:^|[ &])sig=)([^&]*)/, (match, prefix, signature) => prefix + maskSecret(signature));
}
