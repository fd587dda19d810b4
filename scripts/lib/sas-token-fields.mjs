// Tolerant parsing of a SAS token for diagnosis: it reports every structural problem instead of stopping at the
// first one, and keeps each value exactly as sent.
//
// Token: `SharedAccessSignature sr=<resource URI>&sig=<percent-encoded Base64>&se=<epoch seconds>[&skn=<key name>]`.
// The parameters may come in any order. The services split the text after the scheme at `&`, split each parameter at
// its first `=`, and decode each value like a form field (a `+` becomes a space, then `%XX` escapes are decoded).

/** Scheme word that starts the token. */
export const SAS_SCHEME = "SharedAccessSignature";

/** Parameters a SAS token may carry. */
const KNOWN_PARAMETERS = ["sr", "sig", "se", "skn"];

/** Parameters every SAS token must carry. */
const REQUIRED_PARAMETERS = ["sr", "sig", "se"];

/**
 * Splits a SAS token into its parameters and lists what is structurally wrong with it.
 *
 * @param {string} token The token, i.e. the Authorization header value, with surrounding whitespace removed.
 * @returns {{ parameters: { sr?: string, sig?: string, se?: string, skn?: string },
 *   problems: Array<{ code: string, message: string, severity: "error" | "warning" }> }}
 *   Values are exactly as sent (not decoded). Problem messages name parameters but never quote `sig`.
 */
export function parseSasTokenFields(token) {
  const problems = [];
  const parameters = {};

  let body = token;
  const prefix = SAS_SCHEME + " ";
  if (token.startsWith(prefix)) {
    body = token.slice(prefix.length);
  } else {
    problems.push({
      code: "token-scheme-missing",
      severity: "error",
      message: "The token does not start with \"" + prefix + "\". Send the whole token, scheme word and one space " +
        "included, as the Authorization header value.",
    });
    const schemeIndex = token.indexOf(SAS_SCHEME);
    if (schemeIndex >= 0) body = token.slice(schemeIndex + SAS_SCHEME.length).trim();
  }

  for (const parameter of body.split("&")) {
    const equalsIndex = parameter.indexOf("=");
    if (equalsIndex <= 0) {
      problems.push({
        code: "token-parameter-malformed",
        severity: "error",
        message: "The token has a part without the form name=value (" + describeLength(parameter) + "); parameters " +
          "are separated by '&' and a '&' inside a value must be percent-encoded.",
      });
      continue;
    }

    const name = parameter.slice(0, equalsIndex);
    const value = parameter.slice(equalsIndex + 1);

    if (!KNOWN_PARAMETERS.includes(name)) {
      problems.push({
        code: "token-parameter-unknown",
        severity: "warning",
        message: "The token has a parameter \"" + name.slice(0, 20) + "\" that SAS tokens do not use (they use sr, " +
          "sig, se and skn, in lower case); the service ignores it or rejects the token.",
      });
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(parameters, name)) {
      problems.push({
        code: "token-parameter-duplicate",
        severity: "error",
        message: "The token has \"" + name + "\" twice; build it with each parameter once.",
      });
      continue;
    }
    parameters[name] = value;
  }

  for (const name of REQUIRED_PARAMETERS) {
    if (parameters[name] === undefined || parameters[name] === "") {
      problems.push({
        code: "token-" + name + "-missing",
        severity: "error",
        message: "The token has no \"" + name + "\" parameter; a SAS token needs sr, sig and se.",
      });
    }
  }
  return { parameters, problems };
}

/**
 * Decodes one parameter value the way the service does: a `+` becomes a space, then `%XX` escapes are decoded.
 *
 * @param {string} value The value as sent.
 * @returns {string | undefined} The decoded value, or `undefined` when it has an invalid `%` escape.
 */
export function decodeFormValue(value) {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

// Describes a part of the token by its length only, because the part may be a piece of the signature.
function describeLength(text) {
  return text.length === 0 ? "an empty part, e.g. from '&&' or a trailing '&'" : "a part of " + text.length + " characters";
}
