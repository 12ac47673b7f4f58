#!/usr/bin/env python3
"""A Python app that asks the fs service about a chapter through the mesh (standard library only).

    python3 examples/python/chapter_report.py [chapter1.txt ...]

Before MM, this app and fs coordinated through files: the app wrote request.json into a shared
folder, fs polled for it every 100 ms, wrote response.json, and the app polled for that:

    write_json(SHARED / "request.json", {"tool": "analyze_narrative_structure", "path": chapter})
    while not (SHARED / "response.json").exists():     # 100 ms a look, forever if fs is down
        time.sleep(0.1)
    answer = read_json(SHARED / "response.json"); (SHARED / "response.json").unlink()

With the mesh it is one call, with a deadline, a typed error when fs is down or the file is
missing, and a line in the proxy's audit trail naming this app as the caller.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mesh  # noqa: E402  (examples/python/mesh.py; in your project, copy it beside your code)


def main(chapters):
    client = mesh.Mesh(caller="chapter-report")
    try:
        client.wait_for("fs", timeout=15)
    except mesh.MeshError as error:
        print(f"fs is not available: {error.message}", file=sys.stderr)
        return 2
    status = 0
    for chapter in chapters:
        try:
            structure = client.call("fs", "analyze_narrative_structure", path=chapter, timeout=30).data
        except mesh.ToolError as error:
            print(f"{chapter}: fs refused: {error.message}", file=sys.stderr)
            status = 1
            continue
        except mesh.MeshError as error:
            print(f"{chapter}: {error.code}: {error.message}", file=sys.stderr)
            return 2
        headings = ", ".join(h["text"] for h in structure["chapter_headings"]) or "(none)"
        print(f"{chapter}: {structure['word_count']} words, dialogue ratio {structure['dialogue_ratio']}, "
              f"{structure['reading_time_minutes']} min to read, headings: {headings}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["chapter1.txt"]))
