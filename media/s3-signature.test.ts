// The verifier against the example signatures of Amazon's S3 documentation ("Signature
// Calculations for the Authorization Header" and "Query String Authentication"), then against
// requests tampered with one way or another.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EMPTY_PAYLOAD_SHA256, S3AuthError, verifyRequest, type RequestToVerify } from "./s3-signature";

const EXAMPLE = { accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const SIGNED_AT = Date.UTC(2013, 4, 24);
const SCOPE = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";
const HOST = "examplebucket.s3.amazonaws.com";

const getObject = (signature = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"): RequestToVerify => ({
  method: "GET",
  rawPath: "/test.txt",
  rawQuery: "",
  headers: {
    host: HOST,
    range: "bytes=0-9",
    "x-amz-content-sha256": EMPTY_PAYLOAD_SHA256,
    "x-amz-date": "20130524T000000Z",
    authorization: `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=${signature}`,
  },
});

const putObject = (): RequestToVerify => ({
  method: "PUT",
  rawPath: "/test%24file.text",
  rawQuery: "",
  headers: {
    host: HOST,
    date: "Fri, 24 May 2013 00:00:00 GMT",
    "x-amz-date": "20130524T000000Z",
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    "x-amz-content-sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
    authorization:
      `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,` +
      "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
  },
});

const listObjects = (): RequestToVerify => ({
  method: "GET",
  rawPath: "/",
  rawQuery: "max-keys=2&prefix=J",
  headers: {
    host: HOST,
    "x-amz-date": "20130524T000000Z",
    "x-amz-content-sha256": EMPTY_PAYLOAD_SHA256,
    authorization:
      `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=host;x-amz-content-sha256;x-amz-date,` +
      "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
  },
});

const PRESIGNED_QUERY =
  "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
  "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
  "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
const presignedGet = (rawQuery = PRESIGNED_QUERY): RequestToVerify => ({
  method: "GET",
  rawPath: "/test.txt",
  rawQuery,
  headers: { host: HOST },
});

function refusedWith(code: string) {
  return (error: unknown) => error instanceof S3AuthError && error.code === code;
}

describe("Signature Version 4 verification", () => {
  it("accepts the documentation's header-signed GET, PUT and list requests", () => {
    assert.deepEqual(verifyRequest(getObject(), EXAMPLE, SIGNED_AT), { signed: true, payloadHash: EMPTY_PAYLOAD_SHA256 });
    assert.equal(verifyRequest(putObject(), EXAMPLE, SIGNED_AT).signed, true);
    assert.equal(verifyRequest(listObjects(), EXAMPLE, SIGNED_AT).signed, true);
  });

  it("accepts the documentation's presigned URL while it is valid, and not after", () => {
    assert.deepEqual(verifyRequest(presignedGet(), EXAMPLE, SIGNED_AT + 3600_000), { signed: true, payloadHash: "UNSIGNED-PAYLOAD" });
    assert.throws(() => verifyRequest(presignedGet(), EXAMPLE, SIGNED_AT + 86_401_000), refusedWith("AccessDenied"));
  });

  it("says an unsigned request is unsigned", () => {
    assert.deepEqual(verifyRequest({ method: "GET", rawPath: "/b/k", rawQuery: "", headers: { host: HOST } }, EXAMPLE, SIGNED_AT), {
      signed: false,
    });
  });

  it("refuses a wrong secret, another access key, and every tampered part", () => {
    assert.throws(() => verifyRequest(getObject(), { ...EXAMPLE, secretKey: "another" }, SIGNED_AT), refusedWith("SignatureDoesNotMatch"));
    assert.throws(() => verifyRequest(getObject(), { ...EXAMPLE, accessKey: "SOMEONEELSE" }, SIGNED_AT), refusedWith("InvalidAccessKeyId"));
    const tampered: [string, (request: RequestToVerify) => void][] = [
      ["method", (request) => (request.method = "DELETE")],
      ["path", (request) => (request.rawPath = "/other.txt")],
      ["query", (request) => (request.rawQuery = "list-type=2")],
      ["signed header", (request) => (request.headers.range = "bytes=0-99")],
      ["payload hash", (request) => (request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD")],
      ["signature", (request) => (request.headers.authorization = String(request.headers.authorization).replace(/.$/, "0"))],
    ];
    for (const [what, change] of tampered) {
      const request = getObject();
      change(request);
      assert.throws(() => verifyRequest(request, EXAMPLE, SIGNED_AT), refusedWith("SignatureDoesNotMatch"), what);
    }
    const presigned = presignedGet();
    presigned.rawPath = "/secret.txt";
    assert.throws(() => verifyRequest(presigned, EXAMPLE, SIGNED_AT), refusedWith("SignatureDoesNotMatch"), "presigned path");
  });

  it("refuses stale requests, unsigned x-amz headers and other signature versions", () => {
    assert.throws(() => verifyRequest(getObject(), EXAMPLE, SIGNED_AT + 16 * 60_000), refusedWith("RequestTimeTooSkewed"));
    const copy = getObject();
    copy.headers["x-amz-copy-source"] = "/examplebucket/secret.txt";
    assert.throws(() => verifyRequest(copy, EXAMPLE, SIGNED_AT), refusedWith("AccessDenied"));
    const presignedCopy = presignedGet();
    presignedCopy.headers["x-amz-copy-source"] = "/examplebucket/secret.txt";
    assert.throws(() => verifyRequest(presignedCopy, EXAMPLE, SIGNED_AT), refusedWith("AccessDenied"));
    const v2 = getObject();
    v2.headers.authorization = "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=";
    assert.throws(() => verifyRequest(v2, EXAMPLE, SIGNED_AT), refusedWith("InvalidArgument"));
    const both = getObject();
    both.rawQuery = PRESIGNED_QUERY;
    assert.throws(() => verifyRequest(both, EXAMPLE, SIGNED_AT), refusedWith("InvalidArgument"));
  });
});
