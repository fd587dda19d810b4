// Protocol numbers and defaults, each with its unit and the source that defines it.

/** The global device endpoint of DPS; the ID scope selects the instance. */
export const DPS_GLOBAL_HOST = "global.azure-devices-provisioning.net";

/** DPS REST api-version: the latest generally available one in the DPS device REST reference. */
export const DEFAULT_DPS_API_VERSION = "2021-10-01";

/** IoT Hub REST api-version that the official Node device SDK (azure-iot-common 1.13) sends. */
export const DEFAULT_HUB_API_VERSION = "2021-04-12";

/** Default DPS token lifetime, in seconds. Short, because Espruino's TLS does not authenticate the server. */
export const DEFAULT_DPS_TOKEN_TTL_SECONDS = 900;

/** Longest DPS token lifetime the configuration may set, in seconds (15 minutes). */
export const MAX_DPS_TOKEN_TTL_SECONDS = 900;

/** Default and longest IoT Hub token lifetime, in seconds (60 minutes). */
export const DEFAULT_HUB_TOKEN_TTL_SECONDS = 3600;
export const MAX_HUB_TOKEN_TTL_SECONDS = 3600;

/** Shortest token lifetime the configuration may set, in seconds; below this, clock drift breaks every token. */
export const MIN_TOKEN_TTL_SECONDS = 60;

/** Wait between DPS polls when the service sends no `Retry-After`, in ms (the official SDKs use 2 s). */
export const DEFAULT_POLL_INTERVAL_MS = 2000;

/** DPS allows a device at most this many polls in `POLL_WINDOW_MS` (DPS quotas and limits page). */
export const MAX_POLLS_PER_WINDOW = 5;
export const POLL_WINDOW_MS = 10000;

/** Default cap on the whole provisioning attempt, from the first request to the outcome, in seconds. */
export const DEFAULT_MAX_PROVISIONING_SECONDS = 300;

/** Backoff for 429 and 5xx without `Retry-After`: first delay and cap, in ms. */
export const RETRY_BASE_DELAY_MS = 1000;
export const RETRY_MAX_DELAY_MS = 60000;

/** Largest `Retry-After` honoured as given, in seconds; larger values are capped (azure-iot-sdk-c uses 300). */
export const MAX_RETRY_AFTER_SECONDS = 300;

/** Host name suffixes trusted by default for the assigned hub and for DPS. */
export const DEFAULT_HUB_SUFFIXES = [".azure-devices.net"];
export const DEFAULT_DPS_SUFFIXES = [".azure-devices-provisioning.net"];

/** Maximum length of a host name for Espruino's HTTP client, in characters. */
export const MAX_HOST_NAME_LENGTH = 127;

/** Maximum length of a registration ID in DPS, in characters. */
export const MAX_REGISTRATION_ID_LENGTH = 128;

/** Per-request timeout, in ms (the official Node SDK uses 30 s). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30000;

/** Name of the Storage file that contains the device configuration (at most 28 characters on Espruino). */
export const CONFIG_FILE_NAME = "dpscfg.json";

/** Name of the Storage file that contains the cached DPS assignment. */
export const ASSIGNMENT_FILE_NAME = "dpsassign.json";
