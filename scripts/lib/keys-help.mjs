// Help texts of the `keys` CLI (scripts/keys.mjs).

/** Help for the tool as a whole. */
export const TOOL_HELP = `Usage: npm run keys -- <command> [options]

Derives device keys, makes SAS tokens and explains why DPS rejects a token (401002).

Commands:
  derive          derive a device key from an enrollment group key and a registration ID
  token dps       make a DPS registration token
  token hub       make an IoT Hub device token
  diagnose [dps]  explain why DPS rejects (or would accept) a token
  diagnose hub    the same for an IoT Hub device token
  check-config F  check a device configuration file before flashing it

Run "npm run keys -- <command> --help" for the options of one command.

Keys and tokens are read from a file (--key-file, --group-key-file, --token-file; "-" reads standard input) or an
environment variable (--key-env, --group-key-env, --token-env), so they stay out of shell history. --key,
--group-key and --token also work but print a warning. Keys, derived keys and signatures are printed masked (first
4 and last 2 characters) unless --show-secrets is given.

Exit codes: 0 success (diagnose: the token would be accepted), 1 diagnose found a reason for rejection or
check-config found problems, 2 wrong usage or unreadable input.
`;

/** Help for `derive`. */
export const DERIVE_HELP = `Usage: npm run keys -- derive --registration-id ID --group-key-file FILE [--show-secrets | --out-file FILE]

Derives the device key of one registration from an enrollment group key:
base64(HMAC-SHA256(base64decode(groupKey), registrationId)). The result is the same as
"az iot dps enrollment-group compute-device-key": one line with the Base64 key.

Options:
  --registration-id ID      the device's registration ID; its exact case matters
  --group-key-file FILE     file with the group's primary or secondary key ("-" reads standard input)
  --group-key-env VARIABLE  environment variable with the group key
  --group-key KEY           the group key itself (prints a warning: it ends up in shell history)
  --show-secrets            print the derived key in full, alone on one line, as az does
  --out-file FILE           write the derived key to FILE (mode 600) and print it masked

Why masked by default: the derived key is a secret that lets anyone register as this device, and terminals end up
in screenshots, logs and screen shares. Without --show-secrets the key is printed masked (e.g. "rWjb...U=") with a
line on standard error saying how to see it. The mask contains "...", which is not Base64, so a masked key pasted
into a configuration file fails its check instead of causing a 401 later. To use the key in a script, give
--show-secrets (then standard output holds exactly the key and a line break) or --out-file FILE.
`;

/** Help for `token`. */
export const TOKEN_HELP = `Usage:
  npm run keys -- token dps --id-scope SCOPE --registration-id ID (--key-file FILE | --group-key-file FILE) [options]
  npm run keys -- token hub --hub-host-name HOST --device-id ID (--key-file FILE | --group-key-file FILE) [options]

Makes a SAS token: "dps" for registering with DPS (sr = SCOPE/registrations/ID, skn=registration), "hub" for the
assigned IoT Hub (sr = HOST/devices/ID, no skn). With a group key, the device key is derived first for the
registration ID (dps) or the device ID (hub; in a group enrollment the device ID is the registration ID).

Options:
  --key-file FILE | --key-env VARIABLE | --key KEY   the device key (individual enrollment, or already derived)
  --group-key-file FILE | --group-key-env VARIABLE | --group-key KEY   the enrollment group key
  --ttl-seconds N   token lifetime in seconds (default 900 for dps, 3600 for hub)
  --now EPOCH       the current time in whole seconds since 1970, to pin the clock (default: this computer's clock)
  --show-secrets    print the token in full, alone on one line (for curl and scripts)
  --out-file FILE   write the full token to FILE (mode 600) and print it with the signature masked

Without --show-secrets the token is printed with its sig masked, so sr, se and skn stay readable.
`;

/** Help for `diagnose`. */
export const DIAGNOSE_HELP = `Usage:
  npm run keys -- diagnose [dps] --token-file FILE --id-scope SCOPE --registration-id ID
                           [--key-file FILE | --group-key-file FILE] [--enrollment-group-id NAME] [options]
  npm run keys -- diagnose hub --token-file FILE --hub-host-name HOST --device-id ID [--key-file FILE | ...]

Checks a SAS token the way the service does and names each problem in plain words: the token's shape, skn, se
(expired, clock not set, implausibly far ahead), sr (another scope or registration, encoded twice), the encoding of
sig (a '+' that arrives as a space), and the signature. When the signature does not match the key, it names the
known mistake that reproduces it exactly: the group key used directly, a key's text used instead of its
Base64-decoded bytes, a registration ID in another case, the group name used as registration ID, sr signed in
another encoding than the one sent, or se edited after signing.

Options:
  --token-file FILE | --token-env VARIABLE | --token TEXT   the token (an "Authorization: " prefix is removed)
  --id-scope SCOPE, --registration-id ID       (dps) what the request is for
  --hub-host-name HOST, --device-id ID         (hub) what the request is for
  --key-file FILE | --key-env VARIABLE | --key KEY              the device key you believe the device uses
  --group-key-file FILE | --group-key-env VARIABLE | --group-key KEY   the enrollment group key
  --enrollment-group-id NAME   the enrollment group name; says the device is in a group
  --now EPOCH                  the time to check se against, seconds since 1970 (default: this computer's clock)
  --expiry-search-seconds N    how far around se to look for an se edited after signing (default 172800, 2 days)
  --json                       print the result as JSON: { accepted, problems: [{ code, severity, message }] }

Without a key only the parts that need no key are checked. Output never contains a key or the signature.
Exit code 0 when the service would accept the token, 1 when it would reject it, 2 on wrong usage.
`;

/** Help for `check-config`. */
export const CHECK_CONFIG_HELP = `Usage: npm run keys -- check-config FILE [--json]

Checks a device configuration file (JSON) with the same validator the firmware runs at boot, and prints each
problem with its field, e.g. "dps.deviceKey: decodes to 64 bytes, but a key derived for a group enrollment is
always 32 bytes...". Keys and the WiFi password are never printed; other values may be quoted in a message.

Options:
  --json   print { problems: [{ field, message }], warnings: [...] } as JSON

Exit code 0 when the file can be flashed, 1 when it has problems, 2 when it cannot be read.
`;
