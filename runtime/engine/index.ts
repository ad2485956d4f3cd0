/**
 * The Docker engine, the one way in: every call Offshift makes to the engine and every message
 * about its failures live in this folder (as a git client keeps every git call in one module).
 * Callers hold an `Engine` from `connectDocker` and ask for operations.
 */
export { connectDocker, createDockerClient, dockerOptionsFromEnv, type DockerEndpoint, type Engine } from './connect.js';
export { containerById, createContainer, listContainers, EngineContainer, type ContainerCreateOptions, type ContainerDetails, type ContainerSummary } from './containers.js';
export { describeEngineFailure, engineUnreachable, isConflict, isContainerGone, isNotFound, NVIDIA_TOOLKIT_HELP, outputVolumeFailed } from './errors.js';
export { containerEvents, engineAnswers } from './events.js';
export { engineDataRoot, engineFeatures, imageLayers, inspectImage, listEngineImages, pullImage, removeImage, resolveImage, withAbortablePulls, type EngineFeatures, type EngineImage, type PullProgress } from './images.js';
export { createNetwork, inspectNetwork, isNetworkClash, removeNetwork, type NetworkCreateOptions, type NetworkDetails } from './networks.js';
export { probeDocker, type DockerProbe } from './probe.js';
export { createVolume, listVolumes, removeVolume, type VolumeCreateOptions } from './volumes.js';
export { findImageByLabel, imageExists, importImage, type ImageImport } from './image-import.js';
