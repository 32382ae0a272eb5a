"""The demo's dashboard viewer: one static page the local server serves from its public folder.

PocketBase has no dashboard screen of its own, and the admin UI would ask a newcomer for the demo's (random)
superuser password. So the demo writes this page to `pb_public/dashboard.html` and lets anyone on 127.0.0.1 view
(not list or change) dashboards; "Open in browser" then shows the dashboard. Kept as a string, not a data file, so
installers need nothing extra.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DASHBOARD_HTML", "VIEWER_PATH", "install_viewer"]

VIEWER_PATH = "/dashboard.html"

DASHBOARD_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Thingscope demo dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; padding: 0 1rem; }
  h1 { margin-bottom: .2rem; }
  .meta { color: #666; margin-bottom: 1.5rem; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 1rem; }
  .card { border: 1px solid #ddd; border-radius: 8px; padding: 1rem; background: #fafafa; }
  .card .kind { font-size: .8rem; color: #888; text-transform: uppercase; letter-spacing: .05em; }
  pre { background: #f4f4f4; padding: 1rem; border-radius: 8px; overflow: auto; font-size: .85rem; }
  .error { color: #a00; }
</style>
</head>
<body>
<h1 id="title">Loading…</h1>
<div class="meta" id="meta"></div>
<div class="cards" id="widgets"></div>
<h2>Configuration</h2>
<pre id="json"></pre>
<script>
  // The demo's own viewer: reads one record of the `dashboards` collection (public to view on the demo server only).
  const id = new URLSearchParams(location.search).get("id") || "";
  const text = (node, value) => { node.textContent = value; };
  fetch("/api/collections/dashboards/records/" + encodeURIComponent(id))
    .then((r) => r.ok ? r.json() : r.json().then((e) => Promise.reject(new Error(e.message || r.statusText))))
    .then((d) => {
      document.title = d.title + " · Thingscope demo";
      text(document.getElementById("title"), d.title);
      const customers = (d.customers || []).join(", ") || "not assigned to a customer";
      text(document.getElementById("meta"), customers + (d.public ? " · public" : ""));
      const widgets = (d.configuration && d.configuration.widgets) || {};
      for (const w of Object.values(widgets)) {
        const card = document.createElement("div");
        card.className = "card";
        const kind = document.createElement("div");
        kind.className = "kind";
        text(kind, w.type || "widget");
        const name = document.createElement("div");
        text(name, (w.config && w.config.title) || "untitled");
        card.append(kind, name);
        document.getElementById("widgets").append(card);
      }
      text(document.getElementById("json"), JSON.stringify(d.configuration, null, 2));
    })
    .catch((e) => {
      const title = document.getElementById("title");
      title.className = "error";
      text(title, "This dashboard could not be loaded: " + e.message);
    });
</script>
</body>
</html>
"""


def install_viewer(public_dir: Path) -> None:
    """Write (or refresh) the viewer page into the server's public folder."""
    public_dir.mkdir(parents=True, exist_ok=True)
    target = public_dir / VIEWER_PATH.lstrip("/")
    if not target.exists() or target.read_text("utf-8") != DASHBOARD_HTML:
        target.write_text(DASHBOARD_HTML, "utf-8")
