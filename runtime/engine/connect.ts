/**
 * Reaching the Docker engine: the endpoint from the environment (DOCKER_HOST: unix://, npipe://,
 * tcp:// with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH; ssh:// refused) and a client for it. `Engine`
 * is the handle callers pass around; the operations on it live in this folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { loadDockerode } from './dockerode.js';
import { badDockerHost } from './errors.js';

/** A connection to the engine. */
export type Engine = Docker;

export interface DockerEndpoint {
  options: Docker.DockerOptions;
  /** The endpoint in words, e.g. "unix:///var/run/docker.sock". */
  description: string;
}

export function dockerOptionsFromEnv(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): DockerEndpoint {
  const host = env.DOCKER_HOST?.trim();
  const defaultSocket = platform === 'win32' ? '//./pipe/docker_engine' : '/var/run/docker.sock';
  if (!host) {
    return { options: { socketPath: defaultSocket }, description: platform === 'win32' ? `npipe://${defaultSocket}` : `unix://${defaultSocket}` };
  }
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length) || defaultSocket;
    return { options: { socketPath }, description: `unix://${socketPath}` };
  }
  if (host.startsWith('npipe://')) {
    const socketPath = host.slice('npipe://'.length) || '//./pipe/docker_engine';
    return { options: { socketPath }, description: `npipe://${socketPath}` };
  }
  let url: URL;
  try {
    url = new URL(host.includes('//') ? host : `tcp://${host}`);
  } catch {
    throw badDockerHost(host, 'unreadable');
  }
  if (url.protocol === 'ssh:') {
    throw badDockerHost(host, 'ssh');
  }
  const port = url.port || '2375';
  const tls = env.DOCKER_TLS_VERIFY === '1' || port === '2376';
  const options: Docker.DockerOptions = { host: url.hostname, port, protocol: tls ? 'https' : 'http' };
  if (env.DOCKER_CERT_PATH) {
    options.ca = fs.readFileSync(path.join(env.DOCKER_CERT_PATH, 'ca.pem'));
    options.cert = fs.readFileSync(path.join(env.DOCKER_CERT_PATH, 'cert.pem'));
    options.key = fs.readFileSync(path.join(env.DOCKER_CERT_PATH, 'key.pem'));
  }
  return { options, description: `${tls ? 'https' : 'tcp'}://${url.hostname}:${port}` };
}

export function createDockerClient(env: NodeJS.ProcessEnv, timeoutMs?: number): { docker: Docker; endpoint: DockerEndpoint } {
  const endpoint = dockerOptionsFromEnv(env);
  const Dockerode = loadDockerode();
  return { docker: new Dockerode({ ...endpoint.options, ...(timeoutMs ? { timeout: timeoutMs } : {}) }), endpoint };
}

/** The engine named by the environment (no request timeout: image pulls and waits run long). */
export function connectDocker(env: NodeJS.ProcessEnv = process.env): Engine {
  return createDockerClient(env).docker;
}
