/* PartnerBot's Mini App: the plan board and the desk. Plain JS, no build step, no third-party code besides
   Telegram's telegram-web-app.js. Every call carries Telegram's signed init data in a header; the server
   decides what it may see. Every text comes from the server, translated (S below), or from the data. */
"use strict";
(function () {
  const tg = (window.Telegram && window.Telegram.WebApp) || null;
  const initData = tg ? tg.initData || "" : "";
  let S = {}; // strings, translated by the server
  let me = null;
  let board = null;
  let sheetOpen = null; // what the sheet shows: {kind, id}
  const state = { plan: null, tab: "board", filters: { mine: false, red: false, stale: false, section: "", owner: "" } };

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function say(text, error) {
    const status = $("status");
    status.textContent = text || "";
    status.classList.toggle("error", !!error);
    status.hidden = !text;
  }
  function haptic(kind) {
    try { if (tg && tg.HapticFeedback) tg.HapticFeedback.notificationOccurred(kind); } catch (e) { /* none */ }
  }

  function theme() {
    const params = (tg && tg.themeParams) || {};
    const root = document.documentElement;
    for (const [key, value] of Object.entries(params)) {
      if (typeof value === "string" && /^#[0-9a-fA-F]{3,8}$/.test(value)) root.style.setProperty("--tg-theme-" + key.replace(/_/g, "-"), value);
    }
    root.dataset.scheme = (tg && tg.colorScheme) || "light";
    root.style.colorScheme = root.dataset.scheme;
  }

  async function api(path, body) {
    const options = { headers: { Authorization: "tma " + initData }, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch("api/" + path, options);
    } catch (e) {
      throw new Error(S.offline || "The bot cannot be reached. Please try again.");
    }
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) {
      const error = new Error(data.error || S.failed || "Sorry, something went wrong.");
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // --- the board -----------------------------------------------------------------------------------

  function ragBadge(code, term) {
    const known = board && board.rag_set.find((r) => r.code === code);
    if (!code) return el("span", { class: "rag rag-none", title: S.not_rated, "aria-label": (term ? term + ": " : "") + S.not_rated }, "–");
    const label = known ? known.label : code;
    return el("span", { class: "rag rag-" + code, title: label, "aria-label": (term ? term + ": " : "") + label }, code);
  }

  function decorative(node) { node.setAttribute("aria-hidden", "true"); node.removeAttribute("aria-label"); return node; }

  function visible(action) {
    const f = state.filters;
    const now = board.term.code;
    if (f.mine && !action.mine) return false;
    if (f.red && !["R", "A"].includes(action.rag[now] || "")) return false;
    if (f.stale && action.updated_this_term) return false;
    if (f.section && action.section !== f.section) return false;
    if (f.owner && !action.owner_list.includes(f.owner)) return false;
    return true;
  }

  function filterBar() {
    const f = state.filters;
    const check = (key, label) => el("label", { class: "chip" },
      el("input", { type: "checkbox", checked: f[key], onchange: (e) => { f[key] = e.target.checked; drawGrid(); } }), label);
    const sections = [...new Set(board.actions.map((a) => a.section).filter(Boolean))];
    const owners = [...new Set(board.actions.flatMap((a) => a.owner_list))].sort();
    const select = (key, label, values) => el("label", {}, el("span", { class: "sr-only" }, label),
      el("select", { "aria-label": label, onchange: (e) => { f[key] = e.target.value; drawGrid(); } },
        el("option", { value: "" }, label),
        values.map((v) => el("option", { value: v, selected: f[key] === v }, v))));
    return el("div", { class: "filters", role: "group", "aria-label": S.filters },
      check("mine", S.mine), check("red", S.red_amber), check("stale", S.stale),
      sections.length ? select("section", S.all_sections, sections) : null,
      owners.length ? select("owner", S.all_owners, owners) : null);
  }

  function drawGrid() {
    const wrap = $("grid");
    if (!wrap) return;
    const terms = board.terms;
    const head = el("tr", {}, el("th", { scope: "col" }, S.ref), el("th", { scope: "col" }, S.action), el("th", { scope: "col", class: "owner" }, S.owners),
      terms.map((t) => el("th", { scope: "col", class: "term", title: t.long }, t.label)), el("th", { scope: "col" }, S.latest));
    const rows = [];
    let section = null;
    let shown = 0;
    for (const action of board.actions) {
      if (!visible(action)) continue;
      shown++;
      if (action.section && action.section !== section) {
        section = action.section;
        rows.push(el("tr", { class: "section" }, el("th", { colspan: String(4 + terms.length), scope: "colgroup" }, section)));
      }
      rows.push(el("tr", { "data-action": String(action.id) },
        el("td", { class: "ref" }, el("button", { type: "button", class: "linkish", "aria-label": S.open_action.replace("{ref}", action.ref), onclick: () => openAction(action.id) }, action.ref)),
        el("td", { class: "action" }, action.text, action.owners ? el("div", { class: "owner-inline" }, action.owners) : null),
        el("td", { class: "owner" }, action.owners),
        terms.map((t) => el("td", { class: "term" }, ragBadge(action.rag[t.code] || "", t.long))),
        el("td", { class: "comment" }, action.comment)));
    }
    const table = el("table", { class: "grid" }, el("caption", { class: "sr-only" }, board.title), el("thead", {}, head), el("tbody", {}, rows));
    wrap.replaceChildren(table);
    say(shown ? "" : S.none_match);
    if (performance.mark && !performance.getEntriesByName("partnerbot:interactive").length) performance.mark("partnerbot:interactive");
  }

  async function loadBoard() {
    if (!state.plan) {
      $("view").replaceChildren(el("p", {}, S.no_plans));
      say("");
      return;
    }
    say(S.loading);
    board = await api("board/" + state.plan);
    const plans = me.plans.length > 1 ? el("label", {}, el("span", { class: "sr-only" }, S.plan),
      el("select", { "aria-label": S.plan, onchange: (e) => { state.plan = Number(e.target.value); loadBoard().catch(fail); } },
        me.plans.map((p) => el("option", { value: String(p.id), selected: p.id === state.plan }, p.title)))) : null;
    const legend = el("div", { class: "legend" }, board.rag_set.map((r) => el("span", {}, decorative(ragBadge(r.code)), " ", r.label + " — " + r.meaning)),
      el("span", {}, decorative(ragBadge("")), " ", S.not_rated));
    $("view").replaceChildren(...[
      el("h2", {}, board.title), plans,
      el("p", { class: "status" }, S.this_term.replace("{term}", board.term.label)),
      filterBar(), legend, el("div", { id: "grid", class: "grid-wrap", tabindex: "0", role: "region", "aria-label": board.title })].filter(Boolean));
    drawGrid();
  }

  // --- an action: history and update ----------------------------------------------------------------

  function openSheet(kind, id, nodes) {
    sheetOpen = { kind, id };
    $("sheet-content").replaceChildren(...nodes);
    $("sheet").hidden = false;
    if (tg && tg.BackButton) tg.BackButton.show();
    const first = $("sheet-content").querySelector("h2");
    if (first) { first.setAttribute("tabindex", "-1"); first.focus(); }
  }
  function closeSheet() {
    $("sheet").hidden = true;
    sheetOpen = null;
    if (tg && tg.BackButton) tg.BackButton.hide();
    if (tg && tg.MainButton) { tg.MainButton.hide(); tg.MainButton.offClick(saveFromMain); }
  }
  let saveFromMain = () => {};

  async function openAction(id, replaces) {
    let data;
    try { data = await api("action/" + id); } catch (e) { fail(e); return; }
    const nodes = [el("h2", { id: "sheet-title" }, data.ref + " " + data.text), el("p", { class: "status" }, data.plan)];
    if (data.can_update) nodes.push(updateForm(data, replaces));
    nodes.push(el("h2", {}, S.history));
    if (!data.rows.length) nodes.push(el("p", { class: "status" }, S.no_history));
    nodes.push(el("ul", { class: "history" }, data.rows.map((r) => el("li", { class: r.replaced || r.kind === "withdrawal" ? "old" : "" },
      el("div", {}, r.rag ? ragBadge(r.rag, r.term) : null, " ", el("b", {}, r.term), r.kind !== "update" ? " · " + (S["kind_" + r.kind] || r.kind) : ""),
      r.comment ? el("div", {}, r.comment) : null,
      el("div", { class: "meta" }, [r.author, r.at].filter(Boolean).join(" · ")),
      r.correctable ? el("div", { class: "row-actions" },
        el("button", { type: "button", class: "btn secondary", onclick: () => openAction(id, r) }, S.correct),
        el("button", { type: "button", class: "btn danger", onclick: () => withdraw(id, r.id) }, S.withdraw)) : null))));
    openSheet("action", id, nodes);
  }

  function updateForm(data, replaces) {
    const name = "rating-" + data.id;
    const comment = el("textarea", { id: "comment", maxlength: "2000", "aria-label": S.comment }, replaces ? replaces.comment : "");
    const choices = [...board.rag_set, { code: "", label: S.no_rating, meaning: "" }].map((r) => el("label", {},
      el("input", { type: "radio", name, value: r.code, checked: replaces ? replaces.rag === r.code : false }),
      r.code ? decorative(ragBadge(r.code)) : null, r.label));
    let saving = false;
    const save = async () => {
      if (saving) return; // the form's button and Telegram's main button, pressed twice: one save
      saving = true;
      const picked = document.querySelector(`input[name="${name}"]:checked`);
      const body = { rag: picked ? picked.value : "", comment: comment.value };
      if (replaces) body.replaces = replaces.id; else body.action = data.id;
      button.disabled = true;
      try {
        const result = await api("update", body);
        haptic("success");
        say((replaces ? S.corrected : S.saved).replace("{term}", result.term || ""));
        closeSheet();
        await loadBoard();
        say((replaces ? S.corrected : S.saved).replace("{term}", result.term || ""));
      } catch (e) {
        saving = false;
        button.disabled = false;
        haptic("error");
        formStatus.textContent = e.message;
      }
    };
    const formStatus = el("p", { class: "status error", role: "alert" });
    const button = el("button", { type: "submit", class: "btn" }, replaces ? S.save_correction : S.save_update);
    // One save on the main button: "Correct" opens a new form over the open one, whose save must go.
    if (tg && tg.MainButton) tg.MainButton.offClick(saveFromMain);
    saveFromMain = save;
    if (tg && tg.MainButton) {
      tg.MainButton.setText(replaces ? S.save_correction : S.save_update);
      tg.MainButton.onClick(save);
      tg.MainButton.show();
    }
    return el("form", { onsubmit: (e) => { e.preventDefault(); save(); } },
      el("h2", {}, replaces ? S.correct_title : S.post_title),
      el("fieldset", {}, el("legend", {}, S.rating.replace("{term}", board.term.label)), el("div", { class: "ratings" }, choices)),
      el("label", { for: "comment" }, S.comment), comment, formStatus,
      el("div", { class: "row-actions" }, button), el("p", { class: "status" }, S.window));
  }

  async function withdraw(actionId, updateId) {
    try {
      await api("update", { replaces: updateId, withdraw: true });
      haptic("success");
      closeSheet();
      await loadBoard();
      say(S.withdrawn);
    } catch (e) { haptic("error"); fail(e); }
  }

  // --- the desk -------------------------------------------------------------------------------------

  async function loadDesk() {
    say(S.loading);
    const desk = await api("desk");
    const cards = desk.requests.map((r) => el("div", { class: "card", "data-request": String(r.id), "data-version": String(r.version) },
      el("div", {}, el("b", {}, r.name), r.school ? ", " + r.school : ""),
      el("div", { class: "meta" }, [r.telegram_name ? S.on_telegram.replace("{name}", r.telegram_name) : "", S.asked.replace("{when}", r.asked)].filter(Boolean).join(" · ")),
      r.person ? el("div", { class: "meta" }, S.in_directory.replace("{name}", r.person.name)) : null,
      el("div", { class: "row-actions" },
        r.person ? el("button", { type: "button", class: "btn", onclick: () => decide(r, true, r.person.id) }, S.approve_link) : null,
        el("button", { type: "button", class: r.person ? "btn secondary" : "btn", onclick: () => decide(r, true, 0) }, S.approve),
        el("button", { type: "button", class: "btn danger", onclick: () => decide(r, false, 0) }, S.reject))));
    const registrations = desk.registrations.map((g) => el("div", { class: "card", "data-change": String(g.id) },
      el("div", { class: "meta" }, S.registered_by.replace("{who}", g.by).replace("{when}", g.when)),
      el("div", { class: "summary" }, g.summary),
      el("div", { class: "row-actions" },
        el("button", { type: "button", class: "btn", onclick: () => register(g, true) }, S.confirm),
        el("button", { type: "button", class: "btn danger", onclick: () => register(g, false) }, S.reject))));
    const section = (key, title, count, items, empty) => el("section", { class: "desk-part", id: "part-" + key, "aria-labelledby": "h-" + key },
      el("h2", { id: "h-" + key }, title, count ? el("span", { class: "count" }, " (" + count + ")") : null),
      ...(items.length ? items : [el("p", { class: "status" }, empty)]));
    const fill = (text, values) => Object.entries(values).reduce((t, [k, v]) => t.split("{" + k + "}").join(String(v)), text || "");
    const button = (label, onclick, kind) => el("button", { type: "button", class: "btn" + (kind ? " " + kind : ""), onclick }, label);

    const heads = desk.new_heads.map((h) => el("div", { class: "card", "data-appointment": String(h.id) },
      el("div", {}, el("b", {}, h.name), " — ", fill(S.starts, { school: h.school, date: h.starts })),
      h.suggestions.length ? el("div", { class: "meta" }, S.suggested) : el("p", { class: "status" }, S.no_buddy_free),
      el("ul", { class: "plain suggestions" }, h.suggestions.map((x) => el("li", {},
        el("b", {}, x.name), el("div", { class: "meta" }, x.reasons),
        el("div", { class: "row-actions" }, button(fill(S.confirm_buddy, { name: x.name }), (e) => act(e.currentTarget, "desk/buddy", { appointment: h.id, person: x.person })))))),
      h.suggestions.length ? el("div", { class: "row-actions" }, button(S.let_bot_ask, (e) => act(e.currentTarget, "desk/buddy-ask", { appointment: h.id }), "secondary")) : null));

    const pairings = desk.pairings.map((p) => el("div", { class: "card", "data-match": String(p.id) },
      el("div", {}, el("b", {}, p.head), " + ", el("b", {}, p.buddy)),
      el("div", { class: "meta" }, p.status, p.state === "ending" ? " " + fill(S.first_100, { date: p.ends }) : ""),
      p.asked_again ? el("div", { class: "meta" }, p.asked_again) : null,
      p.state === "asked" && !p.asked_again ? el("div", { class: "row-actions" }, button(fill(S.ask_again, { name: p.buddy }), (e) => act(e.currentTarget, "desk/ask-again", { match: p.id }), "secondary")) : null,
      p.state !== "asked" ? el("div", { class: "row-actions" }, button(fill(S.end_pairing, { head: p.head, buddy: p.buddy }), (e) =>
        confirmStep(e.currentTarget, fill(S.end_question, { head: p.head, buddy: p.buddy }), S.yes_end,
          (yesButton) => act(yesButton, "desk/end", { match: p.id }, fill(S.ended, { head: p.head, buddy: p.buddy }))), "danger")) : null));

    const answers = desk.answers.length ? [el("ul", { class: "plain answers" }, desk.answers.map((x) => el("li", { class: "answer-" + x.answer },
      x.answer === "struggling" ? el("b", {}, fill(S.answer_line, { who: x.who, other: x.about, when: x.when, answer: x.answer_label }))
        : fill(S.answer_line, { who: x.who, other: x.about, when: x.when, answer: x.answer_label }),
      x.comment ? el("blockquote", {}, "“" + x.comment + "”") : null,
      el("div", { class: "meta" }, x.answered)))),
      el("div", { class: "row-actions" }, button(S.mark_seen, (e) => act(e.currentTarget, "desk/seen", { upto: desk.answers_upto }, S.seen), "secondary"))] : [];

    const plans = desk.not_updated.map((g) => el("div", { class: "card", "data-plan": String(g.id) },
      el("b", {}, g.plan), el("div", {}, g.names.join(", ")),
      el("div", { class: "row-actions" }, button(S.send_reminders, (e) => act(e.currentTarget, "desk/chase", { plan: g.id }), "secondary"))));

    const accounts = desk.accounts.map((a) => el("div", { class: "card", "data-account": String(a.id) },
      el("div", {}, el("b", {}, a.name), a.username ? " @" + a.username : ""),
      a.suggestions.length ? null : el("p", { class: "status" }, S.no_suggestion_link),
      a.suggestions.map((x) => el("div", { class: "suggestion" },
        x.linked_to ? el("div", { class: "meta warn" }, fill(S.linked_elsewhere, { account: x.linked_to })) : null,
        el("div", { class: "row-actions" }, x.linked_to
          ? button(fill(S.replace_link, { person: x.label }), (e) => confirmStep(e.currentTarget, S.replace_question, S.yes_replace,
            (yesButton) => act(yesButton, "desk/link", { account: a.id, person: x.person, expect: null, replace: true })), "danger")
          : button(fill(S.link_to, { person: x.label }), (e) => act(e.currentTarget, "desk/link", { account: a.id, person: x.person, expect: null })))))));
    const links = desk.links.map((l) => el("li", { "data-link": String(l.id) },
      el("b", {}, l.name), " — ", fill(S.linked_since, { person: l.person_name, date: l.since }),
      el("div", { class: "row-actions" }, button(S.unlink, (e) => confirmStep(e.currentTarget, fill(S.unlink_question, { name: l.name, person: l.person_name }), S.yes_unlink,
        (yesButton) => act(yesButton, "desk/unlink", { account: l.id, person: l.person })), "danger"))));

    const stale = desk.stale.map((x) => el("li", { "data-entry": String(x.person) },
      el("b", {}, x.name), x.reminded ? el("span", { class: "meta" }, " — " + x.reminded) : null,
      x.no_account ? el("span", { class: "meta" }, " — " + S.nobody_to_ask) : null,
      x.can_ask ? el("div", { class: "row-actions" }, button(S.ask_to_confirm, (e) => act(e.currentTarget, "desk/stale", { person: x.person }), "secondary")) : null));

    const support = desk.support.map((r) => el("div", { class: "card", "data-support": String(r.id) },
      el("div", {}, el("b", {}, r.school), ": " + r.what), el("div", { class: "meta" }, [r.urgency, r.created].join(" · ")),
      r.suggestions.length ? el("div", { class: "meta" }, S.suggested_leaders) : el("p", { class: "status" }, S.no_leader),
      el("ul", { class: "plain suggestions" }, r.suggestions.map((x) => el("li", {},
        el("b", {}, x.name), el("div", { class: "meta" }, x.reasons),
        el("div", { class: "row-actions" }, button(fill(S.confirm_buddy, { name: x.name }), (e) => act(e.currentTarget, "desk/support", { request: r.id, person: x.person })))))),
      el("div", { class: "row-actions" },
        r.suggestions.length ? button(S.in_turn, (e) => act(e.currentTarget, "desk/support-in-turn", { request: r.id }), "secondary") : null,
        button(S.decline_request, (e) => confirmStep(e.currentTarget, fill(S.decline_question, { n: r.id }), S.yes_decline,
          (yesButton) => act(yesButton, "desk/support-decline", { request: r.id })), "danger"))));

    $("view").replaceChildren(...[
      section("requests", S.requests, desk.requests.length, cards, S.nobody_waiting),
      section("registrations", S.registrations, registrations.length, registrations, S.no_registrations),
      section("heads", S.new_heads_title, desk.counts.new_heads, heads, S.no_new_heads),
      section("answers", S.checkins_title, desk.counts.answers, answers, S.no_answers),
      section("pairings", S.pairings_title, desk.counts.pairings, pairings, S.no_pairings),
      section("plans", fill(S.not_updated_title, { term: desk.term }), desk.counts.not_updated, plans, desk.plans ? S.everyone_updated : S.no_plans),
      section("accounts", S.accounts, desk.accounts.length, accounts, S.every_linked),
      desk.links.length ? el("section", { class: "desk-part", "aria-labelledby": "h-links" }, el("h3", { id: "h-links" }, S.latest_links), el("ul", { class: "plain" }, links)) : null,
      section("stale", S.stale_title, desk.counts.stale, stale.length ? [el("ul", { class: "plain" }, stale)] : [], S.no_stale),
      section("support", S.support_title, desk.support.length, support, S.no_support)].filter(Boolean));
    say("");
  }

  // A destructive action asks first, in place: the question, then [Yes …] [Cancel]; Cancel puts the buttons back.
  function confirmStep(target, question, yes, onYes) {
    const row = target.closest(".row-actions");
    if (!row) return;
    const before = [...row.childNodes];
    haptic("warning");
    const ask = el("div", { class: "confirm", role: "group", "aria-label": question },
      el("p", { class: "question", tabindex: "-1" }, question),
      el("div", { class: "row-actions" },
        el("button", { type: "button", class: "btn danger", onclick: (ev) => onYes(ev.currentTarget) }, yes),
        el("button", { type: "button", class: "btn secondary", onclick: () => { row.replaceChildren(...before); target.focus(); } }, S.cancel)));
    row.replaceChildren(ask);
    ask.querySelector(".question").focus();
  }

  // One desk action: the card's buttons off, the server's decision, the desk reloaded, what happened said (aria-live).
  async function act(target, path, body, done) {
    const card = target.closest("[data-appointment], [data-match], [data-plan], [data-account], [data-link], [data-entry], [data-support], .desk-part");
    const part = target.closest(".desk-part");
    busy(card, true);
    // the list is drawn again: keyboard and screen-reader users land back on the heading of the part they were in
    const back = () => {
      const heading = part && $(part.getAttribute("aria-labelledby") || "");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    };
    try {
      const result = await api(path, body);
      haptic("success");
      await loadDesk();
      say(done || result.text || "");
      back();
    } catch (e) {
      haptic("error");
      await loadDesk().catch(() => {}); // as it is now: decided elsewhere, or changed
      fail(e);
      back();
    }
  }

  function busy(card, on) { if (card) card.querySelectorAll("button").forEach((b) => { b.disabled = on; }); }

  async function decide(r, approve, person) {
    const card = document.querySelector(`[data-request="${r.id}"]`);
    busy(card, true);
    try {
      // the version shown: if the applicant corrected the request since, the server answers 409
      const result = await api("desk/decide", { request: r.id, version: r.version, approve, person });
      haptic("success");
      await loadDesk();
      say((result.status === "approved" ? S.approved : S.rejected).replace("{name}", result.name));
    } catch (e) {
      haptic("error");
      await loadDesk().catch(() => {}); // the card as it is now: changed, or gone once decided elsewhere
      const again = document.querySelector(`[data-request="${r.id}"]`);
      if (again) { again.classList.add("changed"); again.setAttribute("tabindex", "-1"); again.focus(); }
      fail(e);
    }
  }

  async function register(g, confirm) {
    busy(document.querySelector(`[data-change="${g.id}"]`), true);
    try {
      const result = await api("desk/registration", { change: g.id, confirm });
      haptic("success");
      await loadDesk();
      say([confirm ? S.confirmed : S.rejected_registration, result.link_in_chat ? S.link_in_chat : ""].filter(Boolean).join(" "));
    } catch (e) {
      haptic("error");
      await loadDesk().catch(() => {});
      fail(e);
    }
  }

  // --- the import review ----------------------------------------------------------------------------

  let review = null;

  async function loadReview() {
    say(S.loading);
    try {
      review = await api("review");
    } catch (e) {
      $("view").replaceChildren(el("h2", {}, S.review), el("p", {}, e.message));
      say("");
      return;
    }
    drawReview();
    say("");
  }

  // Readings and Import go one after another, each with the token of the reading before it: a second change made
  // while the file is read again, or Import pressed then, waits for that reading (it would otherwise meet a 409).
  let reviewQueue = Promise.resolve();
  function inTurn(work) {
    const next = reviewQueue.then(work, work);
    reviewQueue = next.catch(() => {});
    return next;
  }
  // One reading: the page's review replaced inside the turn, so the next turn sends this reading's token.
  function readAgain(body) {
    return inTurn(async () => { review = await api("review/read", Object.assign({ token: review.token, columns: [] }, body)); });
  }

  async function change(column, header, field, term) {
    say(S.loading);
    try {
      await readAgain({ columns: [{ column, header, field, term }] });
      drawReview();
      haptic("success");
      say("");
    } catch (e) { haptic("error"); fail(e); }
  }

  async function changeHeader(line) {
    if (!line) return;
    say(S.loading);
    try {
      await readAgain({ header_row: line });
      drawReview();
      say("");
    } catch (e) { haptic("error"); fail(e); }
  }

  // A row's reading or a symbol of the key changed: read again at once; the focus stays on what was changed.
  async function reread(body, focus) {
    say(S.loading);
    try {
      await readAgain(body);
      drawReview();
      haptic("success");
      say("");
      const again = focus ? document.querySelector(focus) : null;
      if (again) again.focus();
    } catch (e) { haptic("error"); fail(e); }
  }

  function reviewKey(r) {
    const T = r.strings, k = r.key;
    const codes = (current, blank, label, symbol) => el("select", { "aria-label": label, "data-key": symbol,
      onchange: (e) => reread({ key: [{ symbol, code: e.target.value }] }, "select[data-key=\"" + CSS.escape(symbol) + "\"]") },
      blank ? el("option", { value: "", selected: !current }, blank) : null,
      k.codes.map((c) => el("option", { value: c.code, selected: c.code === current }, c.label)));
    const entries = k.entries.map((e) => el("li", { class: "key-entry" },
      e.symbol.startsWith("#") ? el("span", { class: "rag rag-" + e.code, title: e.symbol }, e.code) : el("b", {}, e.symbol),
      el("span", { class: "meaning" }, e.meaning && e.meaning !== e.symbol ? e.meaning : e.given ? T.row_changed : ""),
      e.editable ? codes(e.code, e.given ? T.row_as_read : null, T.key_means.replace("{symbol}", e.symbol), e.symbol)
        : el("span", {}, (k.codes.find((c) => c.code === e.code) || { label: e.code }).label)));
    const unknown = k.unknown.length ? [el("h3", {}, T.key_unknown), el("ul", { class: "key-list" }, k.unknown.map((u) =>
      el("li", { class: "key-entry" }, el("b", {}, u.value), el("span", { class: "meaning" }, "×" + u.count),
        codes("", T.key_remove, T.key_means.replace("{symbol}", u.value), u.value))))] : [];
    const symbol = el("input", { type: "text", id: "key-symbol", maxlength: "40", "aria-label": T.key_symbol, placeholder: T.key_symbol });
    const rating = el("select", { id: "key-rating", "aria-label": T.key_rating }, k.codes.map((c) => el("option", { value: c.code }, c.label)));
    const add = el("form", { class: "key-add", onsubmit: (e) => {
      e.preventDefault();
      if (symbol.value.trim()) reread({ key: [{ symbol: symbol.value.trim(), code: rating.value }] }, "#key-symbol");
    } }, symbol, rating, el("button", { type: "submit", class: "btn secondary" }, T.key_add));
    return el("section", { class: "review-key", "aria-labelledby": "key-title" },
      el("h2", { id: "key-title" }, T.key_title),
      k.entries.length ? el("ul", { class: "key-list" }, entries) : el("p", {}, T.key_none),
      k.where.length ? el("p", { class: "note" }, T.key_where.replace("{where}", k.where.join("; "))) : null,
      ...unknown, add);
  }

  function reviewRows(r) {
    const T = r.strings;
    const byTable = new Map();
    for (const row of r.rows) {
      if (!byTable.has(row.table)) byTable.set(row.table, []);
      byTable.get(row.table).push(row);
    }
    const parts = [];
    for (const [index, rows] of byTable) {
      const t = r.tables.find((x) => x.index === index);
      parts.push(el("h3", {}, S.table.replace("{n}", String(index + 1)) + (t && t.title ? " · " + t.title : "")));
      parts.push(el("ol", { class: "rows-list" }, rows.map((row) => {
        const id = "row-" + row.table + "-" + row.line;
        let reason = row.reason;
        if (row.kind === "continuation" && row.ref && row.of_line) reason += " (" + T.row_continues.replace("{ref}", row.ref).replace("{n}", String(row.of_line)) + ")";
        else if (row.kind === "action" && row.ref) reason = row.ref + ": " + reason;
        const kind = row.editable ? el("select", { "aria-label": T.row_kind.replace("{n}", String(row.line)), "aria-describedby": id + "-why",
          "data-row": row.table + ":" + row.line,
          onchange: (e) => reread({ rows: [{ table: row.table, line: row.line, kind: e.target.value }] }, "select[data-row=\"" + row.table + ":" + row.line + "\"]") },
          row.forced ? el("option", { value: "" }, T.row_as_read) : null,
          r.row_kinds.map((k) => el("option", { value: k.code, selected: k.code === row.choice }, k.label)))
          : el("span", { class: "kind" }, row.kind_label);
        return el("li", { class: "row-reading kind-" + row.kind + (row.forced ? " forced" : ""), "data-table": String(row.table), "data-line": String(row.line) },
          el("div", { class: "row-head" }, el("span", { class: "line" }, row.where), kind),
          el("div", { class: "why", id: id + "-why" }, reason, row.forced ? el("span", { class: "note" }, " · " + T.row_changed) : null),
          row.text ? el("div", { class: "row-text" }, row.text) : null);
      })));
    }
    return el("section", { class: "review-rows", "aria-labelledby": "rows-title" },
      el("h2", { id: "rows-title" }, T.rows_title + " (" + r.rows.length + ")"), el("p", { class: "status" }, T.rows_intro),
      ...parts, r.blank_rows ? el("p", { class: "note" }, T.blank_rows.replace("{n}", String(r.blank_rows))) : null);
  }

  function drawReview() {
    const r = review;
    const tables = r.tables.filter((t) => t.used).map((t) => el("div", { class: "grid-wrap review-table" },
      el("table", { class: "grid" },
        el("caption", {}, S.table.replace("{n}", String(t.index + 1)) + (t.where ? " · " + t.where : "") + (t.title ? " · " + t.title : "")),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, S.column), el("th", { scope: "col" }, S.field), el("th", { scope: "col" }, S.term))),
        el("tbody", {}, t.columns.map((c) => {
          const name = (c.header || "#" + (c.column + 1));
          const field = el("select", { "aria-label": S.field + ": " + name, "data-column": String(c.column),
            onchange: (e) => change(c.column, c.header, e.target.value, null) },
            r.fields.map((f) => el("option", { value: f.code, selected: f.code === c.field }, f.label)));
          const rated = c.field === "rag" || c.field === "comment";
          const term = rated ? el("select", { "aria-label": S.term + ": " + name,
            onchange: (e) => change(c.column, c.header, null, e.target.value) },
            el("option", { value: "" }, c.term_label || S.no_term),
            r.terms.map((o) => el("option", { value: o.code, selected: o.code === c.term }, o.label))) : "";
          return el("tr", { "data-header": name },
            el("th", { scope: "row" }, name, c.guessed ? el("div", { class: "note" }, S.guessed) : null),
            el("td", {}, field), el("td", {}, term));
        })))));
    // The header row: as read, or one of the lines the chat offers; choosing one reads the file again.
    const header = r.header.choices.length ? el("label", { class: "header-row" }, el("span", {}, S.header_row),
      el("select", { id: "header-row", onchange: (e) => changeHeader(Number(e.target.value)) },
        el("option", { value: "" }, S.header_as_read.replace("{lines}", r.header.label)),
        r.header.choices.map((c) => el("option", { value: String(c.line), selected: c.line === r.header.chosen }, c.label))),
      el("span", { class: "note" }, S.header_hint)) : null;
    const rows = [];
    for (const section of r.sections) {
      if (section.title) rows.push(el("tr", { class: "section" }, el("th", { colspan: "3", scope: "colgroup" }, section.title, section.where ? el("span", { class: "note" }, " · " + section.where) : null)));
      for (const a of section.actions) {
        rows.push(el("tr", { "data-ref": a.ref }, el("td", { class: "ref" }, a.ref),
          el("td", { class: "action" }, a.text, a.owners ? el("div", { class: "owner-inline" }, a.owners) : null),
          el("td", { class: "owner" }, a.owners)));
      }
    }
    const actions = el("div", { class: "grid-wrap" }, el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, S.ref), el("th", { scope: "col" }, S.action), el("th", { scope: "col", class: "owner" }, S.owners))),
      el("tbody", {}, rows)));
    const counts = r.counts_line;
    const key = S.rating_key.replace("{key}", r.rag_set.map((k) => k.code + " = " + k.label).join(", "));
    const preview = el("div", { class: "card" }, r.preview.map((line) =>
      line.kind === "heading" ? el("b", { class: "preview-heading" }, line.text) : el("div", {}, line.kind === "item" ? "• " + line.text : line.text)));
    const label = r.updates_plan ? S.update_plan.replace("{n}", String(r.updates_plan)) : S.import;
    const button = el("button", { type: "button", class: "btn", id: "do-import", onclick: () => doImport() }, label);
    if (tg && tg.MainButton) { tg.MainButton.offClick(saveFromMain); saveFromMain = doImport; tg.MainButton.setText(label); tg.MainButton.onClick(doImport); tg.MainButton.show(); }
    $("view").replaceChildren(...[
      el("h2", {}, S.review + ": " + r.name), el("p", { class: "status" }, S.review_intro),
      el("h2", {}, S.columns), header, ...tables,
      el("p", {}, key), reviewKey(r),
      r.warnings.length ? el("div", { class: "card", role: "note" }, el("b", {}, S.warnings), el("ul", {}, r.warnings.map((w) => el("li", {}, w)))) : null,
      el("h2", {}, S.preview), preview,
      el("h2", {}, S.actions_read + " (" + r.actions.length + ")"), el("p", { class: "status" }, counts), actions,
      reviewRows(r),
      el("h2", {}, S.not_read + " (" + r.not_read.length + ")"),
      r.not_read.length ? el("ul", { class: "history" }, r.not_read.map((n) => el("li", {}, el("b", {}, n.where), " — " + n.reason, n.text ? el("div", { class: "meta" }, n.text) : null))) : el("p", {}, S.nothing_left_out),
      el("div", { class: "row-actions" }, button)].filter(Boolean));
  }

  let importing = false;
  async function doImport() {
    if (importing) return; // the page's button and Telegram's main button: one Import
    importing = true;
    const button = $("do-import");
    if (button) button.disabled = true;
    try {
      const result = await inTurn(() => api("review/import", { token: review.token }));
      haptic("success");
      if (tg && tg.MainButton) tg.MainButton.hide();
      me = await api("me");
      state.plan = result.plan;
      state.tab = "board";
      tabs();
      await loadBoard();
      say(S.imported.replace("{n}", String(result.plan)).replace("{title}", result.title));
    } catch (e) {
      if (button) button.disabled = false;
      haptic("error");
      fail(e);
    } finally {
      importing = false;
    }
  }

  // --- start ----------------------------------------------------------------------------------------

  function fail(e) { say(e && e.message ? e.message : String(e), true); }

  function tabs() {
    const nav = $("tabs");
    const items = [["board", S.board]];
    if (me.review) items.push(["review", S.review]);
    if (me.desk) items.push(["desk", S.desk]);
    nav.replaceChildren(...items.map(([key, label]) => el("button", {
      type: "button", role: "tab", id: "tab-" + key, "aria-selected": state.tab === key ? "true" : "false",
      onclick: () => { state.tab = key; tabs(); show(); },
    }, label)));
    nav.hidden = items.length < 2;
  }
  function show() {
    closeSheet();
    if (tg && tg.MainButton) tg.MainButton.hide();
    const load = { desk: loadDesk, review: loadReview }[state.tab] || loadBoard;
    load().catch(fail);
  }

  async function start() {
    theme();
    if (tg) {
      tg.ready();
      if (tg.expand) tg.expand();
      if (tg.onEvent) tg.onEvent("themeChanged", theme);
      if (tg.BackButton) tg.BackButton.onClick(closeSheet);
    }
    $("sheet-close").addEventListener("click", closeSheet);
    document.addEventListener("keydown", (e) => { if (e.key === "Escape" && sheetOpen) closeSheet(); });
    $("sheet").addEventListener("click", (e) => { if (e.target === $("sheet")) closeSheet(); });
    if (!initData) { say("Please open this page from the bot in Telegram.", true); return; }
    try {
      me = await api("me");
    } catch (e) { fail(e); return; }
    S = me.strings;
    document.documentElement.lang = me.lang || "en";
    $("title").textContent = S.title;
    $("sheet-close").setAttribute("aria-label", S.close);
    const wanted = new URLSearchParams(location.hash.slice(1));
    state.plan = Number(wanted.get("plan")) || (me.plans[0] && me.plans[0].id) || null;
    const view = new URLSearchParams(location.search).get("view") || wanted.get("tab");
    if ((view === "desk" && me.desk) || (view === "review" && me.review)) state.tab = view;
    tabs();
    show();
  }
  document.addEventListener("DOMContentLoaded", start);
})();
