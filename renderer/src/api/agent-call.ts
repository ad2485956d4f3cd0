/** The pages' way to the agent: the session's client, and a failed call's message in plain words. */
import { ApiError } from '../../../runtime/api/client.js';
import { startSession } from '../store/session.js';

export const client = () => startSession().client;

export const message = (error: unknown) => (error instanceof ApiError || error instanceof Error ? error.message : String(error));
