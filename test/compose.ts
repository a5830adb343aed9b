// docker-compose.yml as the tests read it (Docker cannot run here): its services, and its
// `${VAR}` references substituted as compose would.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { projectRoot } from "../platform/config";

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
}

export const compose = YAML.parse(fs.readFileSync(path.join(projectRoot, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>;
};

/** The stack's own containers: the others (databases, observability) use other images. */
export const stackContainers = Object.entries(compose.services).filter(([, service]) => service.image === "douyin-supergraph");

/**
 * A value with `${VAR:-default}` given its default and any other `${VAR...}` a long stand-in of
 * its own (two variables never get the same one: production refuses equal secrets).
 */
export const composeValue = (value: string) =>
  String(value)
    .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1")
    .replace(/\$\{([A-Z_]+)[^}]*\}/g, (_, variable: string) => `stand-in-for-${variable}-`.padEnd(40, "x"));

/** An environment as compose would hand it to a container. */
export const composeEnvironment = (env: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(env).map(([key, value]) => [key, composeValue(value)]));
