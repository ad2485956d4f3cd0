/**
 * What a manifest and an image config say, read from bytes whose digest was already verified:
 * an image manifest (OCI or Docker v2), or an index (OCI index, Docker manifest list) from which
 * the linux/amd64 image is chosen, and the config's diff_ids. Since the bytes are the pinned
 * ones, anything wrong here is the image's own fault, whoever served it.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/);
const descriptor = z.object({ digest, size: z.number().int().nonnegative() });
const imageManifest = z.object({ schemaVersion: z.literal(2), config: descriptor, layers: z.array(descriptor) });
const index = z.object({
  schemaVersion: z.literal(2),
  manifests: z.array(
    z.object({
      digest: z.string(),
      platform: z.object({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).optional(),
    }),
  ),
});
const imageConfig = z.object({ rootfs: z.object({ diff_ids: z.array(digest) }) });

export type Descriptor = z.infer<typeof descriptor>;
export type Manifest = { kind: 'image'; config: Descriptor; layers: Descriptor[] } | { kind: 'index'; manifests: z.infer<typeof index>['manifests'] };

export function parseManifest(body: Buffer, ref: string): Manifest {
  const doc = parseJson(body, ref, 'manifest') as { schemaVersion?: unknown; manifests?: unknown } | null;
  if (doc?.schemaVersion === 1) throw unusable(ref, 'its manifest is in the old Docker schema 1 format');
  if (Array.isArray(doc?.manifests)) {
    const parsed = index.safeParse(doc);
    if (!parsed.success) throw unusable(ref, 'its image index is malformed');
    return { kind: 'index', manifests: parsed.data.manifests };
  }
  const parsed = imageManifest.safeParse(doc);
  if (!parsed.success) throw unusable(ref, 'its manifest is neither an image manifest nor an index (or is malformed)');
  return { kind: 'image', config: parsed.data.config, layers: parsed.data.layers };
}

/** The linux/amd64 image's manifest digest in an index (a plain amd64 before a variant). */
export function pickLinuxAmd64(manifests: Extract<Manifest, { kind: 'index' }>['manifests'], ref: string): string {
  const amd64 = manifests.filter((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64');
  const chosen = amd64.find((m) => !m.platform?.variant) ?? amd64[0];
  if (!chosen) {
    const has = manifests.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}` : 'unknown')).filter((p) => p !== 'unknown/unknown');
    throw unusable(ref, `it has no linux/amd64 image (it has ${[...new Set(has)].join(', ') || 'none'})`);
  }
  if (!digest.safeParse(chosen.digest).success) throw unusable(ref, `its linux/amd64 entry names "${chosen.digest.slice(0, 80)}", not a sha256 digest`);
  return chosen.digest;
}

/** The config's diff_ids, one per layer of the manifest. */
export function parseDiffIds(body: Buffer, layerCount: number, ref: string): string[] {
  const parsed = imageConfig.safeParse(parseJson(body, ref, 'config'));
  if (!parsed.success) throw unusable(ref, 'its image config is malformed (no rootfs.diff_ids)');
  const diffIds = parsed.data.rootfs.diff_ids;
  if (diffIds.length !== layerCount) throw unusable(ref, `its config lists ${diffIds.length} layers and its manifest ${layerCount}`);
  return diffIds;
}

function parseJson(body: Buffer, ref: string, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw unusable(ref, `its ${what} is not JSON`);
  }
}

/** The image itself (not the registry) is at fault: `why` is a clause, e.g. "it has no linux/amd64 image". */
export function unusable(ref: string, why: string): AppError {
  return new AppError('image-unreadable', `${ref} is not an image Offshift can run: ${why}. Ask for a linux/amd64 image in the OCI or Docker v2 format, pinned by its digest.`);
}
