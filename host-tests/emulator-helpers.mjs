// Helpers for the DPS emulator tests: a raw HTTPS client that trusts the emulator's certificate, a token builder on
// Node's crypto, and the official Azure provisioning SDK pointed at the emulator.

import { createHmac } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import provisioningDevice from 'azure-iot-provisioning-device';
import provisioningHttp from 'azure-iot-provisioning-device-http';
import symmetricKeySecurity from 'azure-iot-security-symmetric-key';

// These packages are CommonJS without named exports that Node's ESM loader can detect.
const { ProvisioningDeviceClient } = provisioningDevice;
const { Http: ProvisioningHttpTransport } = provisioningHttp;
const { SymmetricKeySecurityClient } = symmetricKeySecurity;

// azure-iot-http-base is a dependency of the provisioning transport, not of this project, so it is loaded from there.
const requireFromTransport = createRequire(createRequire(import.meta.url).resolve('azure-iot-provisioning-device-http'));
const { Http: HttpBase } = requireFromTransport('azure-iot-http-base');

/**
 * Sends one HTTPS request to the emulator, trusting only its certificate.
 *
 * @param {{ url: string, certificatePem: string }} emulator Running emulator.
 * @param {{ method: string, path: string, headers?: Record<string, string>, body?: string }} options Request.
 * @returns {Promise<{ status: number, headers: import('node:http').IncomingHttpHeaders, text: string, json: any }>}
 *   The response; `json` is undefined when the body is not JSON.
 */
export function sendToEmulator(emulator, options) {
  const url = new URL(options.path, emulator.url);
  const headers = { ...options.headers };
  if (options.body !== undefined) {
    headers['Content-Length'] = String(Buffer.byteLength(options.body));
  }

  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      { method: options.method, headers, ca: emulator.certificatePem, agent: false },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode, headers: response.headers, text, json });
        });
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/**
 * Builds a DPS SAS token with Node's crypto.
 *
 * @param {{ idScope: string, registrationId: string, keyBase64: string, expiryEpochSeconds: number,
 *   srStyle?: 'upper' | 'lower' | 'raw', skn?: string | null }} input `srStyle` picks how "/" appears in `sr`
 *   (`%2F`, `%2f` or raw); `skn: null` leaves `skn` out.
 * @returns {string} `SharedAccessSignature sr=...&sig=...&se=...&skn=...`.
 */
export function buildDpsToken(input) {
  const resourceUri = `${input.idScope}/registrations/${input.registrationId}`;
  const srByStyle = {
    upper: encodeURIComponent(resourceUri),
    lower: encodeURIComponent(resourceUri).replace(/%2F/g, '%2f'),
    raw: resourceUri,
  };
  const sr = srByStyle[input.srStyle ?? 'upper'];
  const sig = createHmac('sha256', Buffer.from(input.keyBase64, 'base64'))
    .update(`${sr}\n${input.expiryEpochSeconds}`)
    .digest('base64');

  const skn = input.skn === undefined ? 'registration' : input.skn;
  const sknPart = skn === null ? '' : `&skn=${skn}`;
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${input.expiryEpochSeconds}${sknPart}`;
}

/**
 * Derives a group enrollment's device key with Node's crypto.
 *
 * @param {string} groupKeyBase64 Group key, Base64.
 * @param {string} registrationId Registration ID.
 * @returns {string} Base64 of HMAC-SHA256(base64decode(groupKey), registrationId).
 */
export function deriveDeviceKey(groupKeyBase64, registrationId) {
  return createHmac('sha256', Buffer.from(groupKeyBase64, 'base64')).update(registrationId).digest('base64');
}

/**
 * Registers a device with the official Azure provisioning SDK (HTTP transport, symmetric key) against the emulator.
 *
 * The SDK always connects to port 443 and trusts only Node's CA store. Its HTTP transport accepts an
 * `azure-iot-http-base` instance, so this helper passes one whose requests go to the emulator's port and trust the
 * emulator's certificate. Nothing changes TLS settings for the rest of the process.
 *
 * @param {{ host: string, port: number, idScope: string, certificatePem: string }} emulator Running emulator.
 * @param {string} registrationId Registration ID.
 * @param {string} deviceKeyBase64 Individual key or derived group key, Base64.
 * @returns {Promise<object>} The SDK's registration result (`assignedHub`, `deviceId`, ...).
 */
export function registerWithSdk(emulator, registrationId, deviceKeyBase64) {
  const httpBase = new EmulatorHttpBase(emulator.port);
  httpBase.setOptions({ ca: emulator.certificatePem });

  const transport = new ProvisioningHttpTransport(httpBase);
  const security = new SymmetricKeySecurityClient(registrationId, deviceKeyBase64);
  const client = ProvisioningDeviceClient.create(emulator.host, emulator.idScope, transport, security);
  return client.register();
}

// azure-iot-http-base takes a port only through per-request options, which the provisioning transport never passes.
class EmulatorHttpBase extends HttpBase {
  constructor(port) {
    super();
    this.emulatorPort = port;
  }

  buildRequest(method, path, httpHeaders, host, options, done) {
    if (typeof options === 'function') {
      return super.buildRequest(method, path, httpHeaders, host, { port: this.emulatorPort }, options);
    }
    return super.buildRequest(method, path, httpHeaders, host, options, done);
  }
}
