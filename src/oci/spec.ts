// OCI runtime-spec types: only the parts hyrun reads or writes. Unknown fields are kept as-is when a
// config is copied (the index signatures), so nothing the user wrote is lost in a private bundle.

export interface OciRoot { path: string; readonly?: boolean }

export interface OciUser { uid: number; gid: number; umask?: number; additionalGids?: number[]; username?: string }

export interface OciRlimit { type: string; hard: number; soft: number }

export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args?: string[];
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: Record<string, string[] | undefined>;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
  [key: string]: unknown;
}

export interface OciMount { destination: string; type?: string; source?: string; options?: string[]; [key: string]: unknown }

export interface OciHook { path: string; args?: string[]; env?: string[]; timeout?: number }

export interface OciLinux {
  namespaces?: { type: string; path?: string }[];
  uidMappings?: { containerID: number; hostID: number; size: number }[];
  gidMappings?: { containerID: number; hostID: number; size: number }[];
  resources?: Record<string, unknown>;
  cgroupsPath?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  [key: string]: unknown;
}

export interface OciSpec {
  ociVersion: string;
  process?: OciProcess;
  root?: OciRoot;
  hostname?: string;
  mounts?: OciMount[];
  hooks?: Record<string, OciHook[] | undefined>;
  annotations?: Record<string, string>;
  linux?: OciLinux;
  [key: string]: unknown;
}

/** What `state ID` prints (runtime-spec "State"). */
export interface OciState {
  ociVersion: string;
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped' | 'paused' | string;
  pid?: number;
  bundle: string;
  rootfs?: string;
  created?: string;
  owner?: string;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** runtime-spec "Features" document (features.md). */
export interface OciFeatures {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks?: string[];
  mountOptions?: string[];
  linux?: Record<string, unknown>;
  annotations?: Record<string, string>;
  potentiallyUnsafeConfigAnnotations?: string[];
  [key: string]: unknown;
}
