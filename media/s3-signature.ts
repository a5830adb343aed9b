// AWS Signature Version 4 verification for the embedded object storage's front (storage-server.ts),
// which s3rver cannot do itself: header-signed requests (`Authorization: AWS4-HMAC-SHA256 ...`)
// and presigned URLs (`X-Amz-Algorithm=AWS4-HMAC-SHA256&...`), the two ways the minio client
// signs. Checked against the S3 documentation's example signatures (s3-signature.test.ts).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

const ALGORITHM = "AWS4-HMAC-SHA256";
/** How far a signed request's time may be from ours (S3's own allowance). */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** The longest a presigned URL may be valid (S3's limit: seven days). */
const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;
/** Query parameters that carry a presigned URL's signature, never passed on. */
export const PRESIGN_PARAMETERS = new Set([
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
  "X-Amz-Content-Sha256",
]);
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
export const EMPTY_PAYLOAD_SHA256 = createHash("sha256").update("").digest("hex");

export interface Credentials {
  accessKey: string;
  secretKey: string;
}

export interface RequestToVerify {
  method: string;
  /** The path as it arrived, still percent-encoded. */
  rawPath: string;
  /** The query string as it arrived (without `?`), still percent-encoded. */
  rawQuery: string;
  headers: IncomingHttpHeaders;
}

/** An S3 error: its code and status are what S3 itself answers. */
export class S3AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "S3AuthError";
  }
}

export type Verdict =
  | { signed: false }
  /** `payloadHash`: the hex SHA-256 the body must have, or UNSIGNED-PAYLOAD (checked by the caller, which reads the body). */
  | { signed: true; payloadHash: string };

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, upper-case hex. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw new S3AuthError(400, "InvalidURI", "Couldn't parse the specified URI.");
  }
}

/** Query parameters decoded, in their order, with an absent value as "". */
export function parseQuery(rawQuery: string): [string, string][] {
  if (rawQuery === "") return [];
  return rawQuery
    .split("&")
    .filter((part) => part !== "")
    .map((part) => {
      const equals = part.indexOf("=");
      return equals === -1 ? [decode(part), ""] : [decode(part.slice(0, equals)), decode(part.slice(equals + 1))];
    });
}

const sha256Hex = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/** `20130524T000000Z` as milliseconds, or NaN. */
function parseAmzDate(text: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return NaN;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  return Date.UTC(year!, month! - 1, day!, hour, minute, second);
}

interface SignatureParts {
  accessKey: string;
  /** `<date>/<region>/<service>/aws4_request` */
  scope: string;
  scopeDate: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
}

function parseCredential(credential: string): { accessKey: string; scope: string; scopeDate: string } {
  const parts = credential.split("/");
  if (parts.length !== 5 || parts[3] !== "s3" || parts[4] !== "aws4_request" || !/^\d{8}$/.test(parts[1]!)) {
    throw new S3AuthError(400, "AuthorizationHeaderMalformed", "The credential scope is malformed.");
  }
  return { accessKey: parts[0]!, scope: parts.slice(1).join("/"), scopeDate: parts[1]! };
}

function parseAuthorizationHeader(header: string, headers: IncomingHttpHeaders): SignatureParts {
  const space = header.indexOf(" ");
  if (space === -1 || header.slice(0, space) !== ALGORITHM) {
    throw new S3AuthError(400, "InvalidArgument", `Only ${ALGORITHM} (Signature Version 4) authorization is accepted.`);
  }
  const fields = new Map<string, string>();
  for (const component of header.slice(space + 1).split(",")) {
    const equals = component.indexOf("=");
    if (equals !== -1) fields.set(component.slice(0, equals).trim(), component.slice(equals + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeaders || !signature) {
    throw new S3AuthError(
      400,
      "AuthorizationHeaderMalformed",
      "The authorization header requires Credential, SignedHeaders and Signature.",
    );
  }
  const amzDate = headerValue(headers, "x-amz-date");
  if (!amzDate) throw new S3AuthError(403, "AccessDenied", "AWS authentication requires a valid x-amz-date header.");
  return { ...parseCredential(credential), signedHeaders: signedHeaders.split(";"), signature, amzDate };
}

function parsePresignedQuery(query: Map<string, string>): SignatureParts & { expiresSeconds: number } {
  const credential = query.get("X-Amz-Credential");
  const signedHeaders = query.get("X-Amz-SignedHeaders");
  const signature = query.get("X-Amz-Signature");
  const amzDate = query.get("X-Amz-Date");
  const expires = query.get("X-Amz-Expires");
  if (query.get("X-Amz-Algorithm") !== ALGORITHM) {
    throw new S3AuthError(400, "AuthorizationQueryParametersError", `X-Amz-Algorithm must be ${ALGORITHM}.`);
  }
  if (!credential || !signedHeaders || !signature || !amzDate || !expires) {
    throw new S3AuthError(
      400,
      "AuthorizationQueryParametersError",
      "A presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature.",
    );
  }
  const expiresSeconds = Number(expires);
  if (!/^\d+$/.test(expires) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGNED_SECONDS) {
    throw new S3AuthError(400, "AuthorizationQueryParametersError", `X-Amz-Expires must be 1 to ${MAX_PRESIGNED_SECONDS} seconds.`);
  }
  return { ...parseCredential(credential), signedHeaders: signedHeaders.split(";"), signature, amzDate, expiresSeconds };
}

/** The canonical URI: each segment decoded, then encoded the one way a signer encodes it. */
function canonicalUri(rawPath: string): string {
  return rawPath
    .split("/")
    .map((segment) => uriEncode(decode(segment)))
    .join("/");
}

function canonicalQuery(parameters: [string, string][]): string {
  return parameters
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([nameA, valueA], [nameB, valueB]) => (nameA < nameB ? -1 : nameA > nameB ? 1 : valueA < valueB ? -1 : valueA > valueB ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

function canonicalHeaders(headers: IncomingHttpHeaders, names: string[]): string {
  return names
    .map((name) => {
      const value = headerValue(headers, name);
      if (value === undefined) throw new S3AuthError(403, "AccessDenied", `The signed header ${name} is missing.`);
      return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
}

/**
 * Checks a request's signature against our credentials. An unsigned request is `{signed: false}`
 * (the caller decides what anonymous clients may do); a signed one that does not verify throws
 * S3AuthError. The payload hash is returned for the caller to check against the body.
 */
export function verifyRequest(request: RequestToVerify, credentials: Credentials, now = Date.now()): Verdict {
  const authorization = headerValue(request.headers, "authorization");
  const parameters = parseQuery(request.rawQuery);
  const query = new Map(parameters);
  const presigned = query.has("X-Amz-Algorithm") || query.has("X-Amz-Signature");
  if (authorization === undefined && !presigned) return { signed: false };
  if (authorization !== undefined && presigned) {
    throw new S3AuthError(400, "InvalidArgument", "Only one auth mechanism allowed: the Authorization header or a presigned URL.");
  }

  let parts: SignatureParts;
  let payloadHash: string;
  let signedParameters = parameters;
  if (authorization !== undefined) {
    parts = parseAuthorizationHeader(authorization, request.headers);
    const declared = headerValue(request.headers, "x-amz-content-sha256");
    if (!declared) throw new S3AuthError(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
    payloadHash = declared;
    const time = parseAmzDate(parts.amzDate);
    if (Number.isNaN(time)) throw new S3AuthError(403, "AccessDenied", "x-amz-date is not a valid ISO 8601 basic time.");
    if (Math.abs(now - time) > MAX_CLOCK_SKEW_MS) {
      throw new S3AuthError(403, "RequestTimeTooSkewed", "The difference between the request time and the server's time is too large.");
    }
  } else {
    const presignedParts = parsePresignedQuery(query);
    parts = presignedParts;
    payloadHash = query.get("X-Amz-Content-Sha256") ?? UNSIGNED_PAYLOAD;
    const time = parseAmzDate(parts.amzDate);
    if (Number.isNaN(time)) throw new S3AuthError(403, "AccessDenied", "X-Amz-Date is not a valid ISO 8601 basic time.");
    if (time - now > MAX_CLOCK_SKEW_MS) throw new S3AuthError(403, "AccessDenied", "The request is signed in the future.");
    if (now > time + presignedParts.expiresSeconds * 1000) throw new S3AuthError(403, "AccessDenied", "Request has expired");
    signedParameters = parameters.filter(([name]) => name !== "X-Amz-Signature");
  }

  if (parts.scopeDate !== parts.amzDate.slice(0, 8)) {
    throw new S3AuthError(403, "SignatureDoesNotMatch", "The credential's date is not the request's date.");
  }
  if (!parts.signedHeaders.includes("host")) throw new S3AuthError(403, "AccessDenied", "The host header must be signed.");
  if (parts.signedHeaders.some((name, index) => name !== name.toLowerCase() || (index > 0 && parts.signedHeaders[index - 1]! >= name))) {
    throw new S3AuthError(403, "SignatureDoesNotMatch", "SignedHeaders must be lower-case and sorted.");
  }
  // Every x-amz-* header changes what S3 does (copy sources, metadata): all of them must be signed.
  const unsigned = Object.keys(request.headers).filter((name) => name.startsWith("x-amz-") && !parts.signedHeaders.includes(name));
  if (unsigned.length > 0) {
    throw new S3AuthError(403, "AccessDenied", `These x-amz headers are not signed: ${unsigned.join(", ")}`);
  }
  if (parts.accessKey !== credentials.accessKey) {
    throw new S3AuthError(403, "InvalidAccessKeyId", "The access key ID you provided does not exist in our records.");
  }

  const canonicalRequest = [
    request.method,
    canonicalUri(request.rawPath),
    canonicalQuery(signedParameters),
    canonicalHeaders(request.headers, parts.signedHeaders),
    parts.signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
  const stringToSign = [ALGORITHM, parts.amzDate, parts.scope, sha256Hex(canonicalRequest)].join("\n");
  const [date, region, service] = parts.scope.split("/") as [string, string, string];
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretKey}`, date), region), service), "aws4_request");
  const expected = createHmac("sha256", signingKey).update(stringToSign, "utf8").digest();
  const provided = Buffer.from(/^[0-9a-f]{64}$/.test(parts.signature) ? parts.signature : "", "hex");
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
    throw new S3AuthError(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
  }
  return { signed: true, payloadHash };
}
