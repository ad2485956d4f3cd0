/**
 * `offshift images list|prune|pin|unpin|budget`: the images Offshift pulled for jobs, kept within
 * the owner's budget and above the free-disk floor. The image store lives in the running agent
 * (it alone knows what its jobs use), so list, prune and pin ask it, and say to start it when none
 * runs; `budget` changes the settings file itself when no agent runs, for the agent's next start.
 */
import { AppError } from '../../errors.js';
import { checkImagesPatch, effectiveImages, imagesValue } from '../../images/settings.js';
import { imagePatchSchema, type ImagePatch } from '../../images/schema.js';
import { loadPolicy } from '../../policy/load.js';
import { policyFilePath } from '../../policy/paths.js';
import { openSettingsStore } from '../../settings/store.js';
import type { Client } from '../../api/client.js';
import { viaAgentOrLocal } from '../agent-or-local.js';
import { numberOption, type ParsedArgs } from '../args.js';
import type { CliCommand, CliIO } from '../command.js';
import { budgetText, listText, pruneText } from './images-format.js';

const NO_AGENT = "Offshift's images are kept by the agent, which knows what its jobs use, and no agent is running: start it (`offshift agent`, the service, or the desktop app) and run this again.";

/** Runs `fn` with the running agent's client; without one, says to start it. */
function withAgent<T>(io: CliIO, fn: (client: Client) => Promise<T>): Promise<T> {
  return viaAgentOrLocal(
    io,
    ({ client }) => fn(client),
    async () => {
      throw new AppError('no-agent', NO_AGENT);
    },
  );
}

const json = (io: CliIO, value: unknown) => io.stdout(JSON.stringify(value) + '\n');

export const imagesListCommand: CliCommand = {
  name: 'images list',
  summary: "List the images Offshift pulled, what they use of the budget and the disk, and downloads in progress.",
  usage: 'images list [--json]',
  async run(args, io) {
    const view = await withAgent(io, (client) => client.call('images.list', {}));
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
    const result = await withAgent(io, (client) => client.call('images.prune', { all }));
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
      const image = await withAgent(io, (client) => client.call('images.pin', { ref, pinned }));
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
    throw new AppError('usage', bad === 'budgetGiB' ? `--set-gib is 1 to 65536 (GiB), not ${budget}.` : `--min-free-gib is 0 to 65536 (GiB), not ${floor}.`);
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
    return viaAgentOrLocal(
      io,
      async ({ client, port }) => {
        const view = await client.call('images.settings', patch);
        if (args.flags.has('json')) json(io, view);
        else io.stdout(budgetText(view.effective, view.locked, view.usage) + (changing ? `Saved (told the running agent on port ${port}; a smaller budget applies at once).\n` : ''));
        return 0;
      },
      async (local) => {
        // No agent: the settings file, checked against the admin policy as the agent checks it.
        const store = openSettingsStore(local.home);
        const policy = loadPolicy(policyFilePath(io.env));
        if (changing) {
          checkImagesPatch(patch, effectiveImages(store, policy), policy);
          store.update('images', patch);
        }
        const e = effectiveImages(store, policy);
        if (!e.ok) throw new AppError('settings-invalid', e.message);
        if (args.flags.has('json')) json(io, { effective: imagesValue(e), locked: e.locked, user: store.section('images').patch ?? {}, usage: null });
        else {
          const where = changing ? 'Saved to the settings file: the agent applies it when it starts.\n' : '';
          io.stdout(budgetText(imagesValue(e), e.locked, null) + `\nWhat the images use: start the agent to see it (\`offshift agent\`).\n${where}`);
        }
        return 0;
      },
    );
  },
};

export const imagesCommands: CliCommand[] = [imagesListCommand, imagesPruneCommand, pinCommand(true), pinCommand(false), imagesBudgetCommand];
