import assert from "node:assert/strict";
import { createServer } from "node:https";
import { createRequire } from "node:module";
import provisioningDevice from "azure-iot-provisioning-device";
import provisioningHttp from "azure-iot-provisioning-device-http";
import symmetricKeySecurity from "azure-iot-security-symmetric-key";
import { buildOperationStatusRequest, buildRegisterRequest, parseDpsResponse } from "../firmware/core/dps.ts";
import { createCertificate } from "../scripts/emulator/certificate.mjs";

// These packages are CommonJS without named exports that Node's ESM loader can detect.
const { ProvisioningDeviceClient } = provisioningDevice;
const { Http: ProvisioningHttpTransport } = provisioningHttp;
const { SymmetricKeySecurityClient } = symmetricKeySecurity;

// azure-iot-http-base is a dependency of the provisioning transport, not of this project, so it is loaded from there.
const requireFromTransport = createRequire(createRequire(import.meta.url).resolve("azure-iot-provisioning-device-http"));
const { Http: HttpBase } = requireFromTransport("azure-iot-http-base");

const OPTIONS = { idScope: "0ne000A1B2C", registrationId: "sensor-01", apiVersion: "2021-10-01", payload: undefined };
const TOKEN = "SharedAccessSignature sr=0ne000A1B2C%2Fregistrations%2Fsensor-01&sig=masked&se=1767225600&skn=registration";
const OPERATION_ID = "5.316aac5bdc130deb.b1e02da8-c3a0-4ff2-a121-7ea7a6b7f550";
const NOW_EPOCH_MS = Date.parse("2026-01-01T00:00:00Z");

// Recorded response bodies, shaped like the DPS REST reference and the field-failure reports.
const ASSIGNING_BODY = JSON.stringify({ operationId: OPERATION_ID, status: "assigning" });
const ASSIGNED_BODY = JSON.stringify({
  operationId: OPERATION_ID,
  status: "assigned",
  registrationState: {
    registrationId: "sensor-01",
    createdDateTimeUtc: "2026-01-01T00:00:01.5163352Z",
    assignedHub: "example-hub.azure-devices.net",
    deviceId: "sensor-01",
    status: "assigned",
    substatus: "initialAssignment",
    lastUpdatedDateTimeUtc: "2026-01-01T00:00:01.7370676Z",
    etag: "IjY5MDAzNTUyLTAwMDAtMDMwMC0wMDAwLTYzMGZkYThhMDAwMCI=",
  },
});
const UNAUTHORIZED_BODY = JSON.stringify({
  errorCode: 401002, trackingId: "8d5c7e6a-0000-4000-8000-000000000001", message: "Unauthorized",
  timestampUtc: "2026-01-01T00:00:00.000Z",
});

function respond(status, body, headers = {}) {
  return parseDpsResponse({ status, headers, body }, NOW_EPOCH_MS);
}

describe("buildRegisterRequest", () => {
  const request = buildRegisterRequest(OPTIONS, TOKEN);

  it("uses PUT on the register path", () => {
    assert.equal(request.method, "PUT");
    assert.equal(request.path, "/0ne000A1B2C/registrations/sensor-01/register?api-version=2021-10-01");
  });

  it("sets the DPS headers", () => {
    assert.equal(request.headers.Authorization, TOKEN);
    assert.equal(request.headers["Content-Type"], "application/json; charset=utf-8");
    assert.equal(request.headers.Accept, "application/json");
  });

  it("sends only the registration ID", () => {
    assert.equal(request.body, "{\"registrationId\":\"sensor-01\"}");
  });

  it("sends the payload with modelId", () => {
    const payload = { modelId: "dtmi:com:example:Thermostat;1", site: "lab" };
    const withPayload = buildRegisterRequest({ ...OPTIONS, payload }, TOKEN);

    assert.deepEqual(JSON.parse(withPayload.body), { registrationId: "sensor-01", payload });
  });

  it("percent-encodes the path parts", () => {
    const encoded = buildRegisterRequest({ ...OPTIONS, idScope: "0ne/x", registrationId: "dev:01",
      apiVersion: "2021-10-01&x=1" }, TOKEN);

    assert.equal(encoded.path, "/0ne%2Fx/registrations/dev%3A01/register?api-version=2021-10-01%26x%3D1");
  });
});

describe("buildOperationStatusRequest", () => {
  const request = buildOperationStatusRequest(OPTIONS, OPERATION_ID, TOKEN);

  it("uses GET on the operations path", () => {
    assert.equal(request.method, "GET");
    assert.equal(request.path,
      "/0ne000A1B2C/registrations/sensor-01/operations/" + OPERATION_ID + "?api-version=2021-10-01");
  });

  it("sends headers and no body", () => {
    assert.equal(request.headers.Authorization, TOKEN);
    assert.equal(request.headers.Accept, "application/json");
    assert.equal(request.headers["Content-Type"], undefined);
    assert.equal(request.body, undefined);
  });

  it("percent-encodes the operation ID", () => {
    const encoded = buildOperationStatusRequest(OPTIONS, "5.a/b c", TOKEN);
    assert.equal(encoded.path, "/0ne000A1B2C/registrations/sensor-01/operations/5.a%2Fb%20c?api-version=2021-10-01");
  });
});

describe("parseDpsResponse", () => {
  it("reads 202 assigning with Retry-After", () => {
    const outcome = respond(202, ASSIGNING_BODY, { "retry-after": "3" });

    assert.equal(outcome.kind, "assigning");
    assert.equal(outcome.httpStatus, 202);
    assert.equal(outcome.operationId, OPERATION_ID);
    assert.equal(outcome.retryAfterSeconds, 3);
  });

  it("reads 200 assigned", () => {
    const outcome = respond(200, ASSIGNED_BODY);

    assert.equal(outcome.kind, "assigned");
    assert.equal(outcome.assignedHub, "example-hub.azure-devices.net");
    assert.equal(outcome.deviceId, "sensor-01");
    assert.equal(outcome.substatus, "initialAssignment");
    assert.equal(outcome.retryAfterSeconds, undefined);
  });

  it("reads unassigned as assigning", () => {
    const outcome = respond(202, JSON.stringify({ operationId: OPERATION_ID, status: "unassigned" }));
    assert.equal(outcome.kind, "assigning");
  });

  it("rejects assigning without operationId", () => {
    const outcome = respond(202, JSON.stringify({ status: "assigning" }));

    assert.equal(outcome.kind, "malformed");
    assert.match(outcome.detail, /without an operationId/);
  });

  it("rejects assigned without deviceId", () => {
    const body = JSON.parse(ASSIGNED_BODY);
    delete body.registrationState.deviceId;
    const outcome = respond(200, JSON.stringify(body));

    assert.equal(outcome.kind, "malformed");
    assert.match(outcome.detail, /registrationState.deviceId/);
  });

  it("rejects assigned without assignedHub", () => {
    const body = JSON.parse(ASSIGNED_BODY);
    body.registrationState.assignedHub = "";
    const outcome = respond(200, JSON.stringify(body));

    assert.equal(outcome.kind, "malformed");
    assert.match(outcome.detail, /registrationState.assignedHub/);
  });

  it("rejects assigned without registrationState", () => {
    const outcome = respond(200, JSON.stringify({ operationId: OPERATION_ID, status: "assigned" }));
    assert.equal(outcome.kind, "malformed");
  });

  it("reads failed with its error", () => {
    const outcome = respond(200, JSON.stringify({
      operationId: OPERATION_ID, status: "failed",
      registrationState: { registrationId: "sensor-01", status: "failed", errorCode: 400208,
        errorMessage: "Device provisioning failed: no hub could be assigned" },
    }));

    assert.equal(outcome.kind, "failed");
    assert.equal(outcome.errorCode, 400208);
    assert.equal(outcome.errorMessage, "Device provisioning failed: no hub could be assigned");
  });

  it("reads the disabled answer", () => {
    const outcome = respond(200, "{\"operationId\":\"5.abc.def\",\"status\":\"disabled\",\"registrationState\":" +
      "{\"registrationId\":\"sensor-01\",\"status\":\"disabled\"}}");

    assert.equal(outcome.kind, "disabled");
    assert.equal(outcome.operationId, "5.abc.def");
    assert.equal(outcome.errorCode, undefined);
  });

  it("reads 401 with tracking ID", () => {
    const outcome = respond(401, UNAUTHORIZED_BODY, { "x-ms-error-code": "401002" });

    assert.equal(outcome.kind, "unauthorized");
    assert.equal(outcome.httpStatus, 401);
    assert.equal(outcome.errorCode, 401002);
    assert.equal(outcome.trackingId, "8d5c7e6a-0000-4000-8000-000000000001");
    assert.equal(outcome.errorMessage, "Unauthorized");
  });

  it("reads 429 with Retry-After", () => {
    const outcome = respond(429, JSON.stringify({ errorCode: 429001, trackingId: "t-429", message: "Throttled" }),
      { "retry-after": "5" });

    assert.equal(outcome.kind, "throttled");
    assert.equal(outcome.retryAfterSeconds, 5);
    assert.equal(outcome.errorCode, 429001);
  });

  it("reads 5xx as server errors", () => {
    for (const status of [500, 502, 503, 599]) {
      assert.equal(respond(status, "").kind, "serverError", `HTTP ${status}`);
    }
  });

  it("reads 404 as rejected", () => {
    const outcome = respond(404, JSON.stringify({ errorCode: 404201, trackingId: "t-404", message: "Not found" }));

    assert.equal(outcome.kind, "rejected");
    assert.equal(outcome.errorCode, 404201);
    assert.equal(outcome.trackingId, "t-404");
  });

  it("takes errorCode from the header", () => {
    const outcome = respond(400, "", { "x-ms-error-code": "400004" });

    assert.equal(outcome.kind, "rejected");
    assert.equal(outcome.errorCode, 400004);
  });

  it("reads an unknown status", () => {
    const outcome = respond(200, JSON.stringify({ operationId: OPERATION_ID, status: "blacklisted" }));

    assert.equal(outcome.kind, "unknownStatus");
    assert.equal(outcome.detail, "blacklisted");
  });

  it("rejects a body without status", () => {
    const outcome = respond(200, JSON.stringify({ operationId: OPERATION_ID }));

    assert.equal(outcome.kind, "malformed");
    assert.match(outcome.detail, /no "status" field/);
  });

  it("rejects an HTML body", () => {
    const outcome = respond(200, "<html><body>Service Unavailable</body></html>");

    assert.equal(outcome.kind, "malformed");
    assert.match(outcome.detail, /HTTP 200 with a body that is not a JSON object/);
  });

  it("classifies an HTML error page", () => {
    const outcome = respond(503, "<html><body>Service Unavailable</body></html>", { "retry-after": "7" });

    assert.equal(outcome.kind, "serverError");
    assert.equal(outcome.retryAfterSeconds, 7);
    assert.equal(outcome.errorCode, undefined);
  });

  it("rejects an empty body", () => {
    assert.equal(respond(200, "").kind, "malformed");
    assert.equal(respond(202, "").kind, "malformed");
  });

  it("rejects a JSON array", () => {
    assert.equal(respond(200, "[" + ASSIGNED_BODY + "]").kind, "malformed");
  });

  it("rejects an unexpected status", () => {
    const outcome = respond(302, ASSIGNED_BODY, { location: "https://example.com/" });

    assert.equal(outcome.kind, "malformed");
    assert.match(outcome.detail, /unexpected HTTP status 302/);
  });

  it("reads header names in any case", () => {
    for (const name of ["retry-after", "Retry-After", "RETRY-AFTER", "rEtRy-AfTeR"]) {
      assert.equal(respond(202, ASSIGNING_BODY, { [name]: "4" }).retryAfterSeconds, 4, name);
    }
    assert.equal(respond(400, "", { "X-Ms-Error-Code": "400004" }).errorCode, 400004);
  });

  it("reads an HTTP-date Retry-After", () => {
    const outcome = respond(202, ASSIGNING_BODY, {
      "Retry-After": "Thu, 01 Jan 2026 00:00:10 GMT", "Date": "Thu, 01 Jan 2026 00:00:04 GMT",
    });

    assert.equal(outcome.retryAfterSeconds, 6);
  });

  it("reads errorCode given as text", () => {
    const outcome = respond(401, JSON.stringify({ errorCode: "401002", trackingId: "t-1" }));
    assert.equal(outcome.errorCode, 401002);
  });
});

/**
 * Starts an HTTPS server on loopback that records every request and sends the `answers` responses in order.
 *
 * @returns {Promise<{ port: number, certificatePem: string, requests: object[], close: () => Promise<void> }>}
 */
async function startRecordingServer(answers) {
  const { certificatePem, privateKeyPem } = await createCertificate();
  const requests = [];
  const server = createServer({ cert: certificatePem, key: privateKeyPem }, (request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      requests.push({ method: request.method, url: request.url, headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8") });

      const answer = answers[Math.min(requests.length - 1, answers.length - 1)];
      response.writeHead(answer.status, { "Content-Type": "application/json; charset=utf-8", ...answer.headers });
      response.end(answer.body);
    });
  });

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    certificatePem,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// azure-iot-http-base takes a port only through per-request options, which the provisioning transport never passes.
class LoopbackHttpBase extends HttpBase {
  constructor(port) {
    super();
    this.loopbackPort = port;
  }

  buildRequest(method, path, httpHeaders, host, options, done) {
    if (typeof options === "function") {
      return super.buildRequest(method, path, httpHeaders, host, { port: this.loopbackPort }, options);
    }
    return super.buildRequest(method, path, httpHeaders, host, options, done);
  }
}

/** Registers with the official Node provisioning SDK (HTTP transport, symmetric key) against the recording server. */
function registerWithSdk(server, payload) {
  const httpBase = new LoopbackHttpBase(server.port);
  httpBase.setOptions({ ca: server.certificatePem });

  const transport = new ProvisioningHttpTransport(httpBase);
  const security = new SymmetricKeySecurityClient(OPTIONS.registrationId, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  const client = ProvisioningDeviceClient.create("127.0.0.1", OPTIONS.idScope, transport, security);
  if (payload !== undefined) client.setProvisioningPayload(payload);
  return client.register();
}

describe("DPS requests against the Node SDK", function () {
  // The Node SDK sends api-version 2019-03-31 and leaves path parts unencoded, which is the same for these IDs.
  const sdkOptions = { ...OPTIONS, apiVersion: "2019-03-31" };
  const payload = { modelId: "dtmi:com:example:Thermostat;1" };
  const answers = [
    { status: 202, headers: { "Retry-After": "0" }, body: ASSIGNING_BODY },
    { status: 200, headers: {}, body: ASSIGNED_BODY },
  ];
  let server;
  let sdkResult;

  before(async () => {
    server = await startRecordingServer(answers);
    sdkResult = await registerWithSdk(server, payload);
  });

  after(async () => {
    if (server !== undefined) await server.close();
  });

  it("sends the same register request", () => {
    const ours = buildRegisterRequest({ ...sdkOptions, payload }, TOKEN);
    const sdk = server.requests[0];

    assert.equal(ours.method, sdk.method);
    assert.equal(ours.path, sdk.url);
    assert.deepEqual(JSON.parse(ours.body), JSON.parse(sdk.body));
    assert.equal(ours.headers["Content-Type"], sdk.headers["content-type"]);
    assert.equal(ours.headers.Accept, sdk.headers.accept);
  });

  it("sends the same poll request", () => {
    const ours = buildOperationStatusRequest(sdkOptions, OPERATION_ID, TOKEN);
    const sdk = server.requests[1];

    assert.equal(server.requests.length, 2);
    assert.equal(ours.method, sdk.method);
    assert.equal(ours.path, sdk.url);
    assert.equal(ours.headers.Accept, sdk.headers.accept);
  });

  it("reads the same assignment", () => {
    const outcome = respond(answers[1].status, answers[1].body);

    assert.equal(outcome.assignedHub, sdkResult.assignedHub);
    assert.equal(outcome.deviceId, sdkResult.deviceId);
    assert.equal(outcome.substatus, sdkResult.substatus);
  });
});
