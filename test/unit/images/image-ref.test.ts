import { describe, expect, it } from 'vitest';
import { AppError } from '../../../runtime/errors.js';
import { isLoopbackHost, parseImageRef } from '../../../runtime/images/image-ref.js';

const D = 'sha256:' + 'a1'.repeat(32);

describe('parseImageRef', () => {
  it("reads Docker Hub's short names as library/ on docker.io", () => {
    expect(parseImageRef(`ubuntu@${D}`)).toEqual({ registry: 'docker.io', repository: 'library/ubuntu', digest: D, ref: `ubuntu@${D}` });
    expect(parseImageRef(`pytorch/pytorch@${D}`)).toMatchObject({ registry: 'docker.io', repository: 'pytorch/pytorch' });
    expect(parseImageRef(`docker.io/ubuntu@${D}`)).toMatchObject({ registry: 'docker.io', repository: 'library/ubuntu' });
    expect(parseImageRef(`index.docker.io/library/ubuntu@${D}`)).toMatchObject({ registry: 'docker.io', repository: 'library/ubuntu' });
    expect(parseImageRef(`registry-1.docker.io/team/app@${D}`)).toMatchObject({ registry: 'docker.io', repository: 'team/app' });
  });

  it('takes the first part as the registry when it has a dot or a port, or is localhost', () => {
    expect(parseImageRef(`127.0.0.1:5000/team/render@${D}`)).toMatchObject({ registry: '127.0.0.1:5000', repository: 'team/render' });
    expect(parseImageRef(`ghcr.io/org/app@${D}`)).toMatchObject({ registry: 'ghcr.io', repository: 'org/app' });
    expect(parseImageRef(`localhost/app@${D}`)).toMatchObject({ registry: 'localhost', repository: 'app' });
    expect(parseImageRef(`localhost:5000/app@${D}`)).toMatchObject({ registry: 'localhost:5000', repository: 'app' });
    expect(parseImageRef(`registry.studio.lan:5000/a/b/c/d@${D}`)).toMatchObject({ registry: 'registry.studio.lan:5000', repository: 'a/b/c/d' });
    // No dot, no port: a Docker Hub namespace, not a host.
    expect(parseImageRef(`myhost/app@${D}`)).toMatchObject({ registry: 'docker.io', repository: 'myhost/app' });
  });

  it('refuses anything not pinned by a sha256 digest, with image-not-pinned and what to do', () => {
    for (const ref of ['ubuntu', 'ubuntu:22.04', `ubuntu:22.04@${D}`.replace('@', ''), `ubuntu@sha256:${'a'.repeat(63)}`, `ubuntu@sha512:${'a'.repeat(128)}`, `Ubuntu@${D}`, `../x@${D}`, `ubuntu@${D} `, `http://ghcr.io/x@${D}`, '']) {
      let error: unknown;
      try {
        parseImageRef(ref);
      } catch (e) {
        error = e;
      }
      expect(error, ref).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('image-not-pinned');
      expect((error as AppError).message).toContain('imagetools inspect');
    }
  });
});

describe('isLoopbackHost', () => {
  it('is true for 127.0.0.0/8, localhost and ::1, with or without a port', () => {
    for (const h of ['127.0.0.1', '127.0.0.1:5000', '127.1.2.3:80', 'localhost', 'localhost:5000', '[::1]:5000', '::1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['10.0.0.5:5000', 'ghcr.io', '128.0.0.1', '127.0.0.1.example.com', 'localhost.example.com:5000']) expect(isLoopbackHost(h), h).toBe(false);
  });
});
