// Sends an operation whose variables hold a File as a GraphQL multipart request (the spec the
// gateway's graphql-upload-minimal reads), over XMLHttpRequest: the one browser API that reports
// upload progress. The answer is parsed exactly as HttpLink parses one, so errors look the same.
import { ApolloLink } from "@apollo/client/link";
import { parseAndCheckHttpResponse } from "@apollo/client/link/http";
import { print } from "@apollo/client/utilities";
import { Observable } from "rxjs";

declare module "@apollo/client" {
  interface DefaultContext {
    /** Called as the file goes out: bytes sent so far and in total. */
    onUploadProgress?: (loaded: number, total: number) => void;
  }
}

export interface ExtractedFiles {
  /** The variables with every File replaced by null, as the spec wants them in `operations`. */
  variables: Record<string, unknown>;
  /** Each file with the object paths (`variables.file`) it was found at. */
  files: Map<File, string[]>;
}

export function extractFiles(variables: Record<string, unknown>): ExtractedFiles {
  const files = new Map<File, string[]>();
  const walk = (value: unknown, at: string): unknown => {
    if (typeof File !== "undefined" && value instanceof File) {
      files.set(value, [...(files.get(value) ?? []), at]);
      return null;
    }
    if (Array.isArray(value)) return value.map((item, index) => walk(item, `${at}.${index}`));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, `${at}.${key}`)]));
    }
    return value;
  };
  return { variables: walk(variables, "variables") as Record<string, unknown>, files };
}

export function hasFiles(variables: Record<string, unknown> | undefined): boolean {
  return variables !== undefined && extractFiles(variables).files.size > 0;
}

export function createUploadLink(uri: string): ApolloLink {
  return new ApolloLink(
    (operation) =>
      new Observable((observer) => {
        const context = operation.getContext();
        const { variables, files } = extractFiles(operation.variables);
        const form = new FormData();
        form.append("operations", JSON.stringify({ operationName: operation.operationName, query: print(operation.query), variables }));
        const entries = [...files.entries()];
        form.append("map", JSON.stringify(Object.fromEntries(entries.map(([, paths], index) => [String(index), paths]))));
        entries.forEach(([file], index) => form.append(String(index), file, file.name));

        const request = new XMLHttpRequest();
        let settled = false;
        request.open("POST", uri);
        for (const [name, value] of Object.entries((context.headers ?? {}) as Record<string, string>))
          request.setRequestHeader(name, value);
        request.setRequestHeader("accept", "application/graphql-response+json,application/json;q=0.9");
        // Apollo Server's CSRF prevention refuses multipart requests without it.
        request.setRequestHeader("apollo-require-preflight", "true");
        request.upload.onprogress = (event) => context.onUploadProgress?.(event.loaded, event.lengthComputable ? event.total : 0);
        request.onload = () => {
          settled = true;
          const response = new Response(request.responseText, {
            status: request.status,
            headers: { "content-type": request.getResponseHeader("content-type") ?? "application/json" },
          });
          parseAndCheckHttpResponse(operation)(response).then(
            (result) => {
              observer.next(result as ApolloLink.Result);
              observer.complete();
            },
            (error: unknown) => observer.error(error),
          );
        };
        // The same error fetch gives for a connection that failed, so it reads the same.
        request.onerror = () => {
          settled = true;
          observer.error(new TypeError("Failed to fetch"));
        };
        request.ontimeout = request.onerror;
        request.send(form);
        return () => {
          if (!settled) request.abort();
        };
      }),
  );
}
