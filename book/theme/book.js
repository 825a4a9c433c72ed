// The book's only script: draws the Mermaid diagrams (with mermaid.min.js,
// copied beside the pages, so nothing comes from the network) and searches
// the chapters (search-index.js, written by book/render.py).
"use strict";

// Tells whoever looks (the browser test, or a curious reader's devtools) how
// the diagrams went: <html data-diagrams="drawn N" | "none" | "no mermaid" | "error: ...">.
function bookDrawDiagrams() {
  const root = document.documentElement;
  const blocks = document.querySelectorAll("pre.mermaid");
  if (blocks.length === 0) { root.dataset.diagrams = "none"; return; }
  if (!window.mermaid) { root.dataset.diagrams = "no mermaid"; return; }
  const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  // deterministicIds: by default each diagram's id is Date.now(), and two drawn
  // within one millisecond (or under a headless browser's virtual clock) share
  // one, and the second replaces the first.
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", deterministicIds: true,
                              theme: dark ? "dark" : "default" });
  window.mermaid.run({ nodes: blocks })
    .then(() => {
      const drawn = document.querySelectorAll("pre.mermaid svg").length;
      root.dataset.diagrams = drawn === blocks.length ? `drawn ${drawn}` : `error: ${drawn} of ${blocks.length} drawn`;
    })
    .catch((error) => { root.dataset.diagrams = `error: ${error && error.message ? error.message : error}`; });
}

// And how the images went (the performance chapter's plots):
// <html data-images="shown N" | "broken: src ...">.
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const broken = images.filter((image) => !image.complete || image.naturalWidth === 0);
  document.documentElement.dataset.images = broken.length
    ? "broken: " + broken.map((image) => image.getAttribute("src")).join(" ")
    : `shown ${images.length}`;
});

(function search() {
  const box = document.getElementById("search");
  const list = document.getElementById("search-results");
  const index = window.BOOK_SEARCH || [];
  if (!box || !list) return;
  const base = document.querySelector('link[rel="stylesheet"]').getAttribute("href").replace(/book\.css$/, "");

  function snippet(text, word) {
    const at = text.toLowerCase().indexOf(word);
    const start = Math.max(0, at - 60);
    return (start > 0 ? "…" : "") + text.slice(start, at + 100) + (at + 100 < text.length ? "…" : "");
  }

  function show() {
    const words = box.value.toLowerCase().split(/\s+/).filter((w) => w.length > 1);
    list.replaceChildren();
    if (words.length === 0) { list.hidden = true; return; }
    const hits = [];
    for (const entry of index) {
      const haystack = (entry.section + " " + entry.text).toLowerCase();
      if (!words.every((w) => haystack.includes(w))) continue;
      // Headings that match rank first, then the sections that say it most.
      const inHeading = words.filter((w) => entry.section.toLowerCase().includes(w)).length;
      const count = haystack.split(words[0]).length - 1;
      hits.push({ entry, score: inHeading * 100 + count });
    }
    hits.sort((a, b) => b.score - a.score);
    for (const { entry } of hits.slice(0, 40)) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = base + entry.url;
      link.textContent = entry.page + (entry.section && entry.section !== entry.page ? " › " + entry.section : "");
      const text = document.createElement("span");
      text.textContent = snippet(entry.text, words[0]);
      item.append(link, text);
      list.append(item);
    }
    if (hits.length === 0) {
      const item = document.createElement("li");
      item.textContent = "nothing found";
      list.append(item);
    }
    list.hidden = false;
  }

  box.addEventListener("input", show);
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && document.activeElement !== box) { event.preventDefault(); box.focus(); }
    if (event.key === "Escape" && document.activeElement === box) { box.value = ""; show(); box.blur(); }
  });
})();
