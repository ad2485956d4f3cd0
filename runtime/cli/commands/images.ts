/**
 * `offshift images list|prune|pin|unpin|budget`: the images Offshift pulled for jobs, kept within
 * the owner's budget and above the free-disk floor. Asked of the running agent (which knows what
 * its jobs use); with none, the same commands run over the data folder here.
 */
import { AppError } from '../../errors.js';
import { imagePatchSchema, type ImagePatch } from '../../images/schema.js';
import type { ImageHandlers } from '../../images/handlers.js';
import { viaAgentOrLocal } from '../agent-or-local.js';
import { numberOption, type ParsedArgs } from '../args.js';
import type { CliCommand, CliIO } from '../command.js';
import { budgetText, listText, pruneText } from './images-format.js';

type ImageCall = <K extends keyof ImageHandlers>(name: K, input: Parameters<ImageHandlers[K]>[0]) => ReturnType<ImageHandlers[K]>;

/** Runs `fn` with the running agent's `images.*` commands, or, with no agent, the same commands over the data folder here. */
function withImages<T>(io: CliIO, fn: (call: ImageCall) => Promise<T>): Promise<T> {
  return viaAgentOrLocal(
    io,
    ({ client }) => fn(((name: keyof ImageHandlers, input: never) => client.call(name, input)) as ImageCall),
    (local) => {
      const handlers = local.images();
      return fn(((name, input) => (handlers[name] as (i: unknown) => unknown)(input)) as ImageCall);
    },
  );
}

const json = (io: CliIO, value: unknown) => io.stdout(JSON.stringify(value) + '\n');

export const imagesListCommand: CliCommand = {
  name: 'images list',
  summary: "List the images Offshift pulled, what they use of the budget and the disk, and downloads in progress.",
  usage: 'images list [--json]',
  async run(args, io) {
    const view = await withImages(io, (call) => call('images.list', {}));
    if (args.flags.has('json')) json(io, view);
    else io.stdout(listText(view, Date.now()));
    return 0;
  },
};

export const imagesPruneCommand: CliCommand = {
  name: 'images prune',
  summary: 'Remove the images no job uses that are not pinned; with --all, pinned ones too.',
  usage: 'images prune [--all] [--json]',
  booleanFlags: ['all'],
  async run(args, io) {
    const all = args.flags.has('all');
    const result = await withImages(io, (call) => call('images.prune', { all }));
    if (args.flags.has('json')) json(io, result);
    else io.stdout(pruneText(result, all));
    return 0;
  },
};

function pinCommand(pinned: boolean): CliCommand {
  const verb = pinned ? 'pin' : 'unpin';
  return {
    name: `images ${verb}`,
    summary: pinned ? 'Pin an image so that it is never removed to make room (REF: repository@digest, the digest, or its first digits).' : 'Unpin an image: it may be removed again when room is needed, least recently used first.',
    usage: `images ${verb} REF [--json]`,
    async run(args, io) {
      const ref = args.positionals[0];
      if (!ref || args.positionals.length > 1) throw new AppError('usage', `images ${verb} needs one image: repository@sha256:…, the digest or its first digits (\`offshift images list\` shows them).`);
      const image = await withImages(io, (call) => call('images.pin', { ref, pinned }));
      if (args.flags.has('json')) json(io, image);
      else io.stdout(pinned ? `Pinned ${image.ref}: it is never removed to make room.\n` : `Unpinned ${image.ref}: it may be removed when room is needed, least recently used first.\n`);
      return 0;
    },
  };
}

/** The patch `--set-gib` and `--min-free-gib` ask for, checked against the schema. */
export function budgetPatch(args: ParsedArgs): ImagePatch {
  const patch: ImagePatch = {};
  const budget = numberOption(args, 'set-gib');
  if (budget !== undefined) patch.budgetGiB = budget;
  const floor = numberOption(args, 'min-free-gib');
  if (floor !== undefined) patch.minFreeGiB = floor;
  const parsed = imagePatchSchema.safeParse(patch);
  if (!parsed.success) {
    const bad = parsed.error.issues[0]?.path[0];
    throw new AppError('usage', bad === 'budgetGiB' ? `--set-gib is 0.01 to 65536 (GiB), not ${budget}.` : `--min-free-gib is 0 to 65536 (GiB), not ${floor}.`);
  }
  return parsed.data;
}

export const imagesBudgetCommand: CliCommand = {
  name: 'images budget',
  summary: "Show the images' budget and free-disk floor and what they use; change them with --set-gib and --min-free-gib.",
  usage: 'images budget [--set-gib N] [--min-free-gib N] [--json]',
  async run(args, io) {
    const patch = budgetPatch(args);
    const changing = Object.keys(patch).length > 0;
    const view = await withImages(io, (call) => call('images.settings', patch));
    if (args.flags.has('json')) json(io, view);
    else io.stdout(budgetText(view.effective, view.locked, view.usage) + (changing ? 'Saved; a smaller budget applies at once.\n' : ''));
    return 0;
  },
};

export const imagesCommands: CliCommand[] = [imagesListCommand, imagesPruneCommand, pinCommand(true), pinCommand(false), imagesBudgetCommand];
