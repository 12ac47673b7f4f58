#!/usr/bin/env python3
"""memory: a knowledge-graph memory stdio MCP server (Python 3 standard library only).

    python3 examples/memory_server.py      (the graph lives in $MEMORY_FILE_PATH, else ./memory.jsonl)

The tools, their arguments and the JSONL file are those of the reference server
@modelcontextprotocol/server-memory, so a graph written by one is read by the other. The demo
mesh runs this one: it ships with mm-mesh and needs nothing installed beyond python3.
"""
import json
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fs_server import StdioMcpServer, ToolError  # noqa: E402


def obj(props, required=()):
    return {"type": "object", "properties": props, "required": list(required), "additionalProperties": False}


def strings(description):
    return {"type": "array", "items": {"type": "string"}, "description": description}


ENTITY = obj({"name": {"type": "string", "description": "The name of the entity"},
              "entityType": {"type": "string", "description": "The type of the entity"},
              "observations": strings("Observations about the entity")},
             ["name", "entityType", "observations"])
RELATION = obj({"from": {"type": "string", "description": "The entity the relation starts at"},
                "to": {"type": "string", "description": "The entity the relation ends at"},
                "relationType": {"type": "string", "description": "The relation, in active voice"}},
               ["from", "to", "relationType"])


class Graph:
    """The graph in one JSONL file: read on every call, written whole through a rename."""

    def __init__(self, path):
        self.path = path

    def load(self):
        graph = {"entities": [], "relations": []}
        try:
            with open(self.path, encoding="utf-8") as f:
                lines = [line for line in f.read().split("\n") if line.strip()]
        except FileNotFoundError:
            return graph
        for line in lines:
            item = json.loads(line)
            if item.get("type") == "entity":
                graph["entities"].append({k: item[k] for k in ("name", "entityType", "observations")})
            elif item.get("type") == "relation":
                graph["relations"].append({k: item[k] for k in ("from", "to", "relationType")})
        return graph

    def save(self, graph):
        lines = [json.dumps({"type": "entity", **e}, ensure_ascii=False, separators=(",", ":")) for e in graph["entities"]]
        lines += [json.dumps({"type": "relation", **r}, ensure_ascii=False, separators=(",", ":")) for r in graph["relations"]]
        folder = os.path.dirname(os.path.abspath(self.path))
        fd, temp = tempfile.mkstemp(dir=folder, prefix=os.path.basename(self.path) + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write("\n".join(lines))
            os.replace(temp, self.path)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise


def same_relation(a, b):
    return all(a[k] == b[k] for k in ("from", "to", "relationType"))


def answer(value):
    return [{"type": "text", "text": json.dumps(value, indent=2, ensure_ascii=False)}]


def related(graph, entities):
    names = {e["name"] for e in entities}
    return {"entities": entities, "relations": [r for r in graph["relations"] if r["from"] in names or r["to"] in names]}


def build_server(store):
    server = StdioMcpServer("memory", "1.0.0")

    @server.tool("create_entities", "Create multiple new entities in the knowledge graph",
                 obj({"entities": {"type": "array", "items": ENTITY}}, ["entities"]))
    def create_entities(args, _call):
        graph = store.load()
        known = {e["name"] for e in graph["entities"]}
        new = [e for e in args["entities"] if e["name"] not in known]
        graph["entities"] += new
        store.save(graph)
        return answer(new)

    @server.tool("create_relations", "Create multiple new relations between entities in the knowledge graph",
                 obj({"relations": {"type": "array", "items": RELATION}}, ["relations"]))
    def create_relations(args, _call):
        graph = store.load()
        new = [r for r in args["relations"] if not any(same_relation(r, old) for old in graph["relations"])]
        graph["relations"] += new
        store.save(graph)
        return answer(new)

    @server.tool("add_observations", "Add new observations to existing entities in the knowledge graph",
                 obj({"observations": {"type": "array", "items": obj(
                     {"entityName": {"type": "string"}, "contents": strings("Observations to add")},
                     ["entityName", "contents"])}}, ["observations"]))
    def add_observations(args, _call):
        graph = store.load()
        results = []
        for item in args["observations"]:
            entity = next((e for e in graph["entities"] if e["name"] == item["entityName"]), None)
            if entity is None:
                raise ToolError(f"Entity with name {item['entityName']} not found")
            added = [c for c in item["contents"] if c not in entity["observations"]]
            entity["observations"] += added
            results.append({"entityName": item["entityName"], "addedObservations": added})
        store.save(graph)
        return answer(results)

    @server.tool("delete_entities", "Delete entities and the relations that name them",
                 obj({"entityNames": strings("Names of the entities to delete")}, ["entityNames"]))
    def delete_entities(args, _call):
        graph, gone = store.load(), set(args["entityNames"])
        graph["entities"] = [e for e in graph["entities"] if e["name"] not in gone]
        graph["relations"] = [r for r in graph["relations"] if r["from"] not in gone and r["to"] not in gone]
        store.save(graph)
        return "Entities deleted successfully"

    @server.tool("delete_observations", "Delete specific observations from entities in the knowledge graph",
                 obj({"deletions": {"type": "array", "items": obj(
                     {"entityName": {"type": "string"}, "observations": strings("Observations to delete")},
                     ["entityName", "observations"])}}, ["deletions"]))
    def delete_observations(args, _call):
        graph = store.load()
        for item in args["deletions"]:
            for entity in graph["entities"]:
                if entity["name"] == item["entityName"]:
                    entity["observations"] = [o for o in entity["observations"] if o not in item["observations"]]
        store.save(graph)
        return "Observations deleted successfully"

    @server.tool("delete_relations", "Delete multiple relations from the knowledge graph",
                 obj({"relations": {"type": "array", "items": RELATION}}, ["relations"]))
    def delete_relations(args, _call):
        graph = store.load()
        graph["relations"] = [r for r in graph["relations"] if not any(same_relation(r, d) for d in args["relations"])]
        store.save(graph)
        return "Relations deleted successfully"

    @server.tool("read_graph", "Read the entire knowledge graph", obj({}))
    def read_graph(_args, _call):
        return answer(store.load())

    @server.tool("search_nodes", "Search for nodes by name, type or observation (case-insensitive substring)",
                 obj({"query": {"type": "string", "description": "The text to look for"}}, ["query"]))
    def search_nodes(args, _call):
        graph, query = store.load(), args["query"].lower()
        found = [e for e in graph["entities"] if query in e["name"].lower() or query in e["entityType"].lower()
                 or any(query in o.lower() for o in e["observations"])]
        return answer(related(graph, found))

    @server.tool("open_nodes", "Open specific nodes of the knowledge graph by their names",
                 obj({"names": strings("Names of the entities to open")}, ["names"]))
    def open_nodes(args, _call):
        graph, wanted = store.load(), set(args["names"])
        return answer(related(graph, [e for e in graph["entities"] if e["name"] in wanted]))

    return server


if __name__ == "__main__":
    build_server(Graph(os.environ.get("MEMORY_FILE_PATH") or "memory.jsonl")).serve()
