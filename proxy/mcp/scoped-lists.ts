import type { Tool } from '@modelcontextprotocol/server';
import type { MeshCore } from '../core.js';
import { meshTools } from './mesh-tools.js';
import type { ToolRef } from './namespacing.js';
import type { ViewScope } from './view-scope.js';

/**
 * The tools an endpoint advertises: the mesh tools its scope shows, then the tools of every
 * healthy service it shows, as `service__tool` with the service named in the description.
 */
export function scopedTools(core: MeshCore, scope: ViewScope): { refs: ToolRef[]; tools: Tool[] } {
  const refs: ToolRef[] = [];
  const tools: Tool[] = meshTools.filter((tool) => scope.showsMeshTool(tool.name));
  for (const service of core.registry.services({ status: 'healthy' })) {
    if (!scope.showsService(service.name, service.tags)) continue;
    for (const tool of core.toolsOf(service.name)) {
      if (!scope.showsTool(service.name, tool.name)) continue;
      refs.push({ service: service.name, tool: tool.name });
      tools.push({ ...tool, name: core.namer.name(service.name, tool.name), description: `[${service.name}] ${tool.description ?? tool.name}` });
    }
  }
  return { refs, tools };
}
