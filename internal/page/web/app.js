// The page shows what is on air from /all.json, refreshed whenever the
// /info websocket says an action started, and every few seconds anyway so
// that a blocked websocket (some proxies) still leaves a working page.
"use strict";

const $ = (id) => document.getElementById(id);

function trackLabel(t) {
  const name = t.artist ? `${t.artist} – ${t.title}` : t.title;
  const bits = [];
  if (t.tempo) bits.push(`${t.tempo.toFixed(1)} BPM`);
  if (t.key) bits.push(t.key);
  return bits.length ? `${name} (${bits.join(", ")})` : name;
}

function actionLabel(a) {
  const tracks = (a.tracks || []).map(trackLabel).join(" → ");
  return { text: tracks || a.title || "", kind: a.kind };
}

function fillList(el, items) {
  el.replaceChildren(...items.map(({ text, kind }) => {
    const li = document.createElement("li");
    li.textContent = text + " ";
    if (kind) {
      const k = document.createElement("span");
      k.className = "kind";
      k.textContent = kind;
      li.append(k);
    }
    return li;
  }));
}

async function refresh() {
  try {
    const [status, next] = await Promise.all([
      fetch("all.json", { cache: "no-store" }).then((r) => r.json()),
      fetch("next.json", { cache: "no-store" }).then((r) => r.json()),
    ]);
    const actions = status.actions || [];
    const playing = actions.filter((a) => a.state === "playing").pop();
    // Before the first track the station plays silence while the
    // catalogue is analysed.
    $("now").textContent = playing ? actionLabel(playing).text : (status.title || "warming up…");
    $("now").dataset.kind = playing ? playing.kind : "";
    // Recently means other tracks, not the fade-in of the one playing.
    const onAir = new Set(((playing && playing.tracks) || []).map((t) => t.id));
    const recent = actions.filter((a) => a.state === "played" && !(a.tracks || []).every((t) => onAir.has(t.id)));
    fillList($("recent"), recent.reverse().slice(0, 5).map(actionLabel));
    fillList($("next"), (next || []).slice(0, 5).map((t) => ({ text: trackLabel(t) })));
    const mins = Math.floor(status.position / 60);
    $("stats").textContent = `${status.listeners} listening · on air for ${mins} min`;
  } catch (e) {
    $("now").textContent = "the station is not answering";
  }
}

function watch() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}${location.pathname.replace(/[^/]*$/, "")}info`);
  ws.onmessage = () => refresh();
  ws.onclose = () => setTimeout(watch, 5000);
}

refresh();
watch();
setInterval(refresh, 5000);
