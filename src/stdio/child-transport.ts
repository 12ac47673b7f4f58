import { execa, type ResultPromise } from 'execa';
import { deserializeMessage, serializeMessage, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/server';
import { MeshError } from '../errors.js';
import { StderrTail } from './stderr-tail.js';
import { groupAlive, terminateGroup, waitUntil } from './process-group.js';
import { DEFAULT_MAX_MESSAGE_BYTES, LineReader, type OversizedLine } from './line-reader.js';

export interface ChildCommand {
  command: string;
  args: string[];
  cwd?: string | undefined;
  /** Added to the sidecar's own environment. */
  env?: Record<string, string> | undefined;
}

export interface ChildExit {
  code: number | null;
  signal: string | null;
  /** Last lines of the child's stderr at exit. */
  stderrTail: string;
  /** Set when the command could not be started at all (ENOENT, EACCES...). */
  spawnError?: string | undefined;
}

export interface ChildProcessTransportOptions extends ChildCommand {
  /** Called with each complete stderr line (the sidecar logs them). */
  onStderrLine?: ((line: string) => void) | undefined;
  /** Called for each stdout line that is not a JSON-RPC message (the parser's message quotes it). */
  onJunkLine?: ((reason: string) => void) | undefined;
  /** Cap of one stdout line (one message); a longer line is discarded (default 32 MiB). */
  maxMessageBytes?: number | undefined;
  /** Called when a stdout line outgrows `maxMessageBytes`: once as it crosses the cap, once at its end. */
  onOversizedLine?: ((line: OversizedLine) => void) | undefined;
  /** Called once when the child has exited (before onclose). */
  onexit?: ((exit: ChildExit) => void) | undefined;
}

/** Describes an exit for humans: "exited with code 7" / "killed by SIGKILL" / "could not start: ...". */
export function describeExit(exit: ChildExit): string {
  if (exit.spawnError) return `could not start: ${exit.spawnError}`;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

/**
 * An MCP SDK Transport over a child process speaking newline-delimited JSON-RPC on stdio.
 * The child gets its own process group so that stopping it reaches grandchildren too.
 * Non-JSON stdout lines are reported through onJunkLine and otherwise ignored.
 */
export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly stderr = new StderrTail();
  junkLines = 0;
  private child: ResultPromise | undefined;
  private readonly lines: LineReader;
  private exitInfo: ChildExit | undefined;
  private corked = false;

  constructor(private readonly options: ChildProcessTransportOptions) {
    this.lines = new LineReader(
      options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      (line) => this.onLine(line),
      (line) => {
        if (!line.ended) this.junkLines++;
        options.onOversizedLine?.(line);
      },
    );
  }

  /** The cap of one stdout line in bytes. */
  get maxMessageBytes(): number {
    return this.lines.maxBytes;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get exited(): ChildExit | undefined {
    return this.exitInfo;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('ChildProcessTransport already started');
    const { command, args, cwd, env } = this.options;
    const child = execa(command, args, {
      cwd,
      env,
      extendEnv: true,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      detached: true,
      buffer: false,
      reject: false,
      stripFinalNewline: false,
      encoding: 'buffer',
    });
    this.child = child;
    // The result promise settles only when every stdio stream ends (a grandchild may hold them); exit comes from the event.
    child.catch(() => undefined);
    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of this.stderr.push(chunk.toString('utf8'))) this.options.onStderrLine?.(line);
    });
    child.stdin?.on('error', () => undefined); // EPIPE after the child died: the exit path reports it
    child.on('exit', (code, signal) => this.onExit({ code, signal, stderrTail: this.stderr.text() }));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) this.onExit({ code: null, signal: null, stderrTail: '', spawnError: error.message });
    });
    if (child.pid === undefined) {
      // Spawn failures surface asynchronously; wait for the error event to fill exitInfo.
      await waitUntil(() => this.exitInfo !== undefined, 1_000, 5);
      throw new MeshError('CHILD_START_FAILED', `cannot start ${command}: ${this.exitInfo?.spawnError ?? 'unknown error'}`, {
        context: { command, args },
      });
    }
  }

  private onStdout(chunk: Buffer): void {
    this.lines.push(chunk);
  }

  private onLine(line: string): void {
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch (error) {
      this.junkLines++;
      this.options.onJunkLine?.(error instanceof Error ? error.message.slice(0, 300) : String(error));
      return;
    }
    this.onmessage?.(message);
  }

  private onExit(exit: ChildExit): void {
    if (this.exitInfo) return;
    this.exitInfo = exit;
    this.options.onexit?.(exit);
    this.onclose?.();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || this.exitInfo || stdin.destroyed) {
      throw new MeshError('CHILD_EXITED', `the server process is not running${this.exitInfo ? ` (${describeExit(this.exitInfo)})` : ''}`);
    }
    // Writes made in one event-loop turn leave in one syscall: requests read in the same poll
    // phase share a pipe write (setImmediate runs right after that phase, so no added latency).
    if (!this.corked) {
      this.corked = true;
      stdin.cork();
      setImmediate(() => {
        this.corked = false;
        stdin.uncork();
      });
    }
    stdin.write(serializeMessage(message));
  }

  /**
   * Staged stop: close stdin, then SIGTERM, then SIGKILL the whole group, each after `graceMs`.
   * Resolves once no process of the group is left alive.
   */
  async close(graceMs = 2_000): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    const pgid = child.pid;
    child.stdin?.end();
    await waitUntil(() => this.exitInfo !== undefined, graceMs);
    // Leader gone or not, whatever is left in the group (stubborn leader, grandchildren) is ended.
    if (groupAlive(pgid)) await terminateGroup(pgid, graceMs);
    await waitUntil(() => this.exitInfo !== undefined, 2_000);
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}
