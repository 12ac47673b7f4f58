import type { View } from '../../src/contract/views.js';
import { DISCOVERY_VIEW } from '../../src/contract/views.js';
import { MeshError } from '../../src/errors.js';

/** `/mcp/<view>`, with or without a query. */
export const VIEW_PATH = /^\/mcp\/([^/?]+)(?:\?.*)?$/;

/** True for `/mcp` and `/mcp/<view>` (with or without a query): the proxy's MCP endpoints. */
export function isProxyMcpUrl(url: string | undefined): boolean {
  return url !== undefined && (url === '/mcp' || url.startsWith('/mcp?') || VIEW_PATH.test(url));
}

/** The mesh tools a client of the discovery view finds and calls every other tool with. */
export const DISCOVERY_TOOLS: ReadonlySet<string> = new Set(['list_services', 'get_service_info', 'get_service_status', 'call_service']);

/**
 * What one MCP endpoint shows: `/mcp` everything, a named view its selection (services by name or
 * tag, optionally an allow list of tools per service), the discovery view only the discovery tools.
 * A named view's selection may be replaced while it serves (a re-applied manifest).
 */
export class ViewScope {
  private selection: View | undefined;

  private constructor(
    /** The view's name; undefined for `/mcp`. */
    readonly name: string | undefined,
    readonly kind: 'all' | 'named' | 'discovery',
    selection?: View,
  ) {
    this.selection = selection;
  }

  static all(): ViewScope {
    return new ViewScope(undefined, 'all');
  }

  static discovery(): ViewScope {
    return new ViewScope(DISCOVERY_VIEW, 'discovery');
  }

  static named(name: string, view: View): ViewScope {
    return new ViewScope(name, 'named', view);
  }

  /** The endpoint's path. */
  get path(): string {
    return this.name === undefined ? '/mcp' : `/mcp/${this.name}`;
  }

  /** The current selection of a named view. */
  get view(): View | undefined {
    return this.selection;
  }

  /** Replaces a named view's selection; true when it changed. */
  update(view: View): boolean {
    const changed = JSON.stringify(view) !== JSON.stringify(this.selection);
    this.selection = view;
    return changed;
  }

  /** True when the endpoint shows mesh tool `name`. */
  showsMeshTool(name: string): boolean {
    return this.kind === 'all' || (this.kind === 'discovery' && DISCOVERY_TOOLS.has(name));
  }

  /** True when the endpoint shows service `name` (its tools, resources and prompts); `tags` are its instances' tags. */
  showsService(name: string, tags: readonly string[]): boolean {
    if (this.kind !== 'named') return this.kind === 'all';
    const view = this.selection;
    return view !== undefined && (view.services.includes(name) || tags.some((tag) => view.tags.includes(tag)));
  }

  /** True when the endpoint shows tool `tool` of a service it shows. */
  showsTool(service: string, tool: string): boolean {
    const allowed = this.selection?.tools?.[service];
    return allowed === undefined || allowed.includes(tool);
  }

  /** The protocol error for a tool, resource or prompt this view does not show, naming the view. */
  outside(what: string): MeshError {
    return new MeshError('TOOL_NOT_FOUND', `${what} is not in view "${this.name ?? ''}" (${this.path}); use /mcp or a view that selects it`, { context: { view: this.name } });
  }
}
