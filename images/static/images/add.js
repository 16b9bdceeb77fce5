/* Add page, progressively enhanced: many files by drag-and-drop or picker. Each file goes
   straight to the storage through a presigned POST as soon as it is chosen, with its own
   progress bar; its metadata block is then prefilled from what the stored file says about
   itself (EXIF/IPTC/XMP, read by the server from the storage: no file byte is sent to the
   portal). "Add" has the server verify and register each file; one already in the catalog
   shows the match, to use the existing image or keep both; a failed file can be tried again.
   Without this script the page is a plain one-file form posted to the portal. */
(function () {
  "use strict";
  var form = document.getElementById("add-form");
  var single = document.getElementById("single-upload");
  var template = document.getElementById("file-card-template");
  if (!form || !single || !template || !window.FormData || !window.XMLHttpRequest) { return; }

  var FIELDS = ["title", "description", "keywords", "author", "capture_date"];
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var metadataUrl = form.dataset.metadataUrl;
  var uploadUrl = form.dataset.uploadUrl;
  var registerUrl = form.dataset.registerUrl;
  var discardUrl = form.dataset.discardUrl;
  var listUrl = form.dataset.listUrl;
  var cards = [];
  var counter = 0;
  var sending = [];  // cards waiting for their turn to go to the storage
  var SENDING_AT_ONCE = 3;

  // Build the enhanced UI.
  var enhanced = document.createElement("div");
  enhanced.id = "multi-upload";
  enhanced.innerHTML =
    '<div class="dropzone" id="dropzone">' +
    '  <p><strong>Drop image files here</strong> or</p>' +
    '  <label class="button" for="multi-files">Choose files…</label>' +
    '  <input type="file" id="multi-files" multiple accept="image/jpeg,image/png,image/gif,image/webp" class="visually-hidden">' +
    '  <p class="help">JPEG, PNG, GIF or WebP. Each file gets its own title, keywords and dates, filled in from the file where it says them.</p>' +
    '</div>' +
    '<div id="file-cards" aria-live="polite"></div>' +
    '<div class="submit-row" id="multi-submit" hidden>' +
    '  <button type="button" class="default button" id="upload-all">Add</button>' +
    '  <a href="' + listUrl + '" class="closelink">Back to the list</a>' +
    '  <p id="upload-summary" role="status" aria-live="polite"></p>' +
    '</div>';
  single.hidden = true;
  Array.prototype.forEach.call(single.querySelectorAll("input, textarea, select"), function (el) { el.disabled = true; });
  form.insertBefore(enhanced, single);
  var errornote = form.querySelector(".errornote");
  if (errornote) { errornote.hidden = true; }

  var dropzone = document.getElementById("dropzone");
  var picker = document.getElementById("multi-files");
  var list = document.getElementById("file-cards");
  var submitRow = document.getElementById("multi-submit");
  var uploadAll = document.getElementById("upload-all");
  var summary = document.getElementById("upload-summary");

  picker.addEventListener("change", function () { addFiles(picker.files); picker.value = ""; });
  ["dragenter", "dragover"].forEach(function (type) {
    dropzone.addEventListener(type, function (e) { e.preventDefault(); dropzone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    dropzone.addEventListener(type, function (e) { e.preventDefault(); dropzone.classList.remove("dragging"); });
  });
  dropzone.addEventListener("drop", function (e) { if (e.dataTransfer) { addFiles(e.dataTransfer.files); } });
  uploadAll.addEventListener("click", function () { addAll(); });
  // Files sent to the storage but not added yet would be lost (the storage drops them in a day).
  window.addEventListener("beforeunload", function (e) {
    if (cards.some(function (c) { return ["queued", "sending", "stored", "saving", "duplicate"].indexOf(c.state) >= 0; })) {
      e.preventDefault();
      e.returnValue = "";
    }
  });

  function fieldRow(name) {
    var original = single.querySelector(".field-" + name);
    var row = original.cloneNode(true);
    var errors = row.querySelector(".errorlist");
    if (errors) { errors.remove(); }
    row.classList.remove("errors");
    var input = row.querySelector("input, textarea");
    input.disabled = false;
    input.value = "";
    var id = "id_" + name + "_" + counter;
    input.id = id;
    var label = row.querySelector("label");
    label.htmlFor = id;
    var help = row.querySelector(".help");
    if (help) { help.id = id + "_helptext"; input.setAttribute("aria-describedby", help.id); }
    var badge = document.createElement("span");
    badge.className = "from-file";
    badge.hidden = true;
    label.appendChild(badge);
    input.addEventListener("input", function () { badge.hidden = true; input.classList.remove("prefilled"); });
    return row;
  }

  function setFromFile(card, name, value, source) {
    if (!value) { return; }
    var input = card.inputs[name];
    if (input.value && !input.classList.contains("prefilled")) { return; }  // the person typed: keep it
    input.value = value;
    input.classList.add("prefilled");
    var badge = input.closest(".form-row").querySelector(".from-file");
    badge.textContent = source;
    badge.hidden = false;
  }

  function addFiles(files) {
    Array.prototype.forEach.call(files, function (file) {
      counter += 1;
      var node = template.content.firstElementChild.cloneNode(true);
      var card = { file: file, node: node, inputs: {}, state: "queued", uploadKey: null, saveWanted: false };
      node.querySelector(".file-name").textContent = file.name;
      var preview = node.querySelector(".file-preview");
      if (/^image\//.test(file.type)) {
        // A file named like an image that is not one: a quiet box, not a broken-image icon.
        preview.addEventListener("error", function () { preview.replaceWith(noPreview()); });
        preview.src = URL.createObjectURL(file);
        preview.alt = "Preview of " + file.name;
      } else { preview.replaceWith(noPreview()); }
      var progress = node.querySelector(".file-progress");
      progress.id = "progress-" + counter;
      node.querySelector(".file-progress-label").htmlFor = progress.id;
      var holder = node.querySelector(".file-fields");
      FIELDS.forEach(function (name) {
        var row = fieldRow(name);
        card.inputs[name] = row.querySelector("input, textarea");
        holder.appendChild(row);
      });
      node.querySelector(".file-retry").addEventListener("click", function () {
        if (card.state !== "failed") { return; }
        card.saveWanted = true;
        if (card.uploadKey) { save(card); } else { queueSend(card); }
      });
      node.querySelector(".file-remove").addEventListener("click", function () {
        if (card.state === "queued" || card.state === "sending" || card.state === "saving") { return; }
        if (card.uploadKey) { discard(card); }
        cards.splice(cards.indexOf(card), 1);
        node.remove();
        refresh();
      });
      node.querySelector(".duplicate-use").addEventListener("click", function () { useExisting(card); });
      node.querySelector(".duplicate-keep").addEventListener("click", function () { save(card, true); });
      cards.push(card);
      list.appendChild(node);
      // A title to start from, until the file's own metadata (if any) answers.
      setFromFile(card, "title", file.name.replace(/\.[^.]+$/, "").replace(/[_-]+/g, " "), "from file name");
      queueSend(card);
    });
    refresh();
  }

  function noPreview() {
    var box = document.createElement("div");
    box.className = "file-preview no-preview";
    box.textContent = "No preview";
    return box;
  }

  function waiting(c) { return ["queued", "sending", "stored", "failed"].indexOf(c.state) >= 0; }

  function refresh() {
    var count = cards.filter(function (c) { return waiting(c) && !c.saveWanted; }).length;
    submitRow.hidden = cards.length === 0;
    uploadAll.textContent = count === 1 ? "Add 1 image" : "Add " + count + " images";
    uploadAll.disabled = count === 0;
    var done = cards.filter(function (c) { return c.state === "done"; }).length;
    var skipped = cards.filter(function (c) { return c.state === "skipped"; }).length;
    var failed = cards.filter(function (c) { return c.state === "failed"; }).length;
    var asking = cards.filter(function (c) { return c.state === "duplicate"; }).length;
    var busy = cards.filter(function (c) {
      return c.state === "saving" || ((c.state === "queued" || c.state === "sending") && c.saveWanted);
    }).length;
    if (!busy && (done || failed || skipped || asking)) {
      var parts = [done + " added"];
      if (skipped) { parts.push(skipped + " not added (already in the catalog)"); }
      if (asking) { parts.push(asking + " already in the catalog: choose above"); }
      if (failed) { parts.push(failed + " refused (see why below each file)"); }
      summary.innerHTML = "";
      summary.appendChild(document.createTextNode(parts.join(", ") + ". "));
      if (done) {
        var link = document.createElement("a");
        link.href = listUrl;
        link.textContent = "See them in the list";
        summary.appendChild(link);
      }
    }
  }

  function showErrors(card, body) {
    var node = card.node;
    var all = node.querySelector(".file-errors");
    all.innerHTML = "";
    var errors = (body && body.errors) || { __all__: [(body && body.message) || "The image was not added."] };
    Object.keys(errors).forEach(function (field) {
      errors[field].forEach(function (message) {
        var li = document.createElement("li");
        var label = field === "__all__" ? "" : (field === "image" ? "File" : field.replace("_", " ").replace(/^./, function (c) { return c.toUpperCase(); })) + ": ";
        li.textContent = label + message;
        all.appendChild(li);
      });
      if (card.inputs[field]) {
        var row = card.inputs[field].closest(".form-row");
        row.classList.add("errors");
        card.inputs[field].setAttribute("aria-invalid", "true");
      }
    });
    all.hidden = false;
  }

  // One XMLHttpRequest, answered as {status, body (parsed JSON or null)}; status 0: no answer.
  function send(url, data, onProgress) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("Accept", "application/json");
      if (onProgress) { xhr.upload.addEventListener("progress", onProgress); }
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
        resolve({ status: xhr.status, body: body });
      });
      xhr.addEventListener("error", function () { resolve({ status: 0, body: null }); });
      xhr.send(data);
    });
  }

  function portalForm(fields) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrf);
    Object.keys(fields || {}).forEach(function (name) { data.append(name, fields[name]); });
    return data;
  }

  function setState(card, state, text) {
    card.state = state;
    ["queued", "sending", "stored", "saving", "duplicate", "done", "skipped", "failed"].forEach(function (s) {
      card.node.classList.toggle(s, s === state);
    });
    // The bar is the upload's: full once the file is stored; while the server checks it, a
    // bar without a value (indeterminate), since there is no fraction to show.
    var bar = card.node.querySelector(".file-progress");
    if (state === "saving") { bar.removeAttribute("value"); }
    else if (["stored", "duplicate", "done", "skipped"].indexOf(state) >= 0) { bar.value = 100; }
    else if (state === "queued" || state === "failed") { bar.value = 0; }
    // What is sent is what the fields held when "Add" was pressed: read-only meanwhile.
    Object.keys(card.inputs).forEach(function (k) { card.inputs[k].readOnly = state === "saving"; });
    var status = card.node.querySelector(".file-status");
    status.textContent = text;
    card.node.querySelector(".file-retry").hidden = state !== "failed";
    card.node.querySelector(".file-duplicate").hidden = state !== "duplicate";
    card.node.querySelector(".file-remove").hidden = state === "done" || state === "skipped";
    if (state !== "failed") {
      card.node.querySelector(".file-errors").hidden = true;
      Array.prototype.forEach.call(card.node.querySelectorAll(".form-row.errors"), function (r) { r.classList.remove("errors"); });
    }
    return status;
  }

  function fail(card, answer) {
    var body = answer.body;
    var status = setState(card, "failed", answer.status === 413 ? "Refused: the file is too large." : "Refused: see why below.");
    if (answer.status === 0) {
      status.textContent = "The connection failed.";
      body = { message: "The file could not be sent. Press “Try again”." };
    }
    if (answer.status === 403 || (answer.status >= 300 && answer.status < 400) || (!body && answer.status === 200)) {
      body = { message: "Your session has ended. Sign in again in another tab, then press “Try again”." };
    } else if (!body) {
      body = { message: "The file could not be taken (HTTP " + answer.status + "). Press “Try again”." };
    }
    showErrors(card, body);
  }

  function finish(card, state, text, href, linkText) {
    var status = setState(card, state, text);
    if (href) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = linkText;
      status.appendChild(link);
    }
    Object.keys(card.inputs).forEach(function (k) { card.inputs[k].disabled = true; });
  }

  // Step 1, as soon as a file is chosen (a few at a time): a presigned form from the portal,
  // then the file straight to the storage with its progress bar; then its own metadata.
  function queueSend(card) {
    setState(card, "queued", "Waiting to upload…");
    sending.push(card);
    pump();
    refresh();
  }

  function pump() {
    var running = cards.filter(function (c) { return c.state === "sending"; }).length;
    while (running < SENDING_AT_ONCE && sending.length) {
      running += 1;
      sendFile(sending.shift()).then(function () { pump(); refresh(); });
    }
  }

  function sendFile(card) {
    var progress = card.node.querySelector(".file-progress");
    setState(card, "sending", "Preparing…");
    return send(uploadUrl, portalForm()).then(function (asked) {
      if (asked.status !== 201 || !asked.body || !asked.body.fields) { return fail(card, asked); }
      var grant = asked.body;
      if (card.file.size > grant.max_bytes) {
        return fail(card, { status: 413, body: { errors: { image: ["This file has " + (card.file.size / 1048576).toFixed(1) +
          " MB; the limit is " + Math.floor(grant.max_bytes / 1048576) + " MB."] } } });
      }
      var data = new FormData();
      Object.keys(grant.fields).forEach(function (name) { data.append(name, grant.fields[name]); });
      data.append("file", card.file, card.file.name);  // last: the storage ignores fields after it
      setState(card, "sending", "Uploading…");
      return send(grant.url, data, function (e) {
        if (e.lengthComputable) { progress.value = Math.round((e.loaded / e.total) * 100); }
      }).then(function (stored) {
        if (stored.status < 200 || stored.status >= 300) {
          return fail(card, { status: stored.status || 0, body: stored.status ? {
            message: "The storage refused the file (HTTP " + stored.status + "). Press “Try again”." } : null });
        }
        card.uploadKey = grant.upload_key;
        return prefill(card).then(function () {
          setState(card, "stored", "Uploaded. Check its details, then press “Add”.");
          if (card.saveWanted) { return save(card); }
        });
      });
    });
  }

  function prefill(card) {
    return fetch(metadataUrl, { method: "POST", body: portalForm({ upload_key: card.uploadKey }),
                                headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (found) {
        FIELDS.forEach(function (name) { setFromFile(card, name, found[name], "from file"); });
      })
      .catch(function () { /* prefill is a convenience */ });
  }

  // Step 2, on "Add": the portal verifies the stored file and registers it. A file already in
  // the catalog comes back as a 409 naming the match, unless the person chose to keep both.
  function save(card, keepDuplicate) {
    card.saveWanted = false;
    setState(card, "saving", "Checking the file…");
    var fields = { upload_key: card.uploadKey, filename: card.file.name };
    FIELDS.forEach(function (name) { fields[name] = card.inputs[name].value; });
    if (keepDuplicate) { fields.on_duplicate = "keep"; }
    return send(registerUrl, portalForm(fields)).then(function (made) {
      if (made.status === 201 && made.body) {
        card.uploadKey = null;
        finish(card, "done", "Uploaded and checked. ", made.body.change_url, "Open “" + made.body.title + "”");
      } else if (made.status === 409 && made.body && made.body.duplicate_of) {
        askAboutDuplicate(card, made.body.duplicate_of);
      } else {
        if (!(made.body && made.body.upload_kept)) { card.uploadKey = null; }
        fail(card, made);
      }
      refresh();
    });
  }

  function askAboutDuplicate(card, match) {
    var box = card.node.querySelector(".file-duplicate");
    var preview = box.querySelector(".duplicate-preview");
    preview.innerHTML = "";
    if (match.thumbnail_url) { preview.appendChild(pictureOf(match)); } else { preview.appendChild(noPreview()); }
    var text = box.querySelector(".duplicate-text");
    text.innerHTML = "";
    var what = match.match === "same_bytes" ? "the same file as " : "the same picture (with other embedded details) as ";
    text.appendChild(document.createTextNode("Already in the catalog: this is " + what));
    var name = document.createElement(match.url ? "a" : "strong");
    if (match.url) { name.href = match.url; }
    name.textContent = "“" + match.title + "”";
    text.appendChild(name);
    text.appendChild(document.createTextNode(", added by " + match.creator + " on " + match.storage_date +
      (match.in_trash ? ". It is in the trash." : ".")));
    card.match = match;
    setState(card, "duplicate", "Already in the catalog: use the existing image, or keep both.");
  }

  // The match's renditions as images/_picture.html draws them (the slot is 120 CSS px wide).
  function pictureOf(match) {
    var shown = match.picture || { sources: [], srcset: "" };
    var pic = document.createElement("picture");
    shown.sources.forEach(function (s) {
      var source = document.createElement("source");
      source.type = s.type;
      source.srcset = s.srcset;
      source.sizes = "120px";
      pic.appendChild(source);
    });
    var img = document.createElement("img");
    if (shown.srcset) { img.srcset = shown.srcset; img.sizes = "120px"; }
    img.src = match.thumbnail_url;
    img.alt = match.title;
    pic.appendChild(img);
    return pic;
  }

  function useExisting(card) {
    var match = card.match;
    discard(card).then(function () {
      finish(card, "skipped", "Not added: the existing image is used. ", match.in_trash ? null : match.url,
             match.in_trash ? "" : "Open “" + match.title + "”");
      refresh();
    });
  }

  function discard(card) {
    var key = card.uploadKey;
    card.uploadKey = null;
    return send(discardUrl, portalForm({ upload_key: key }));
  }

  function addAll() {
    cards.filter(waiting).forEach(function (card) {
      if (card.state === "stored") { save(card); } else {
        card.saveWanted = true;
        if (card.state === "failed") {
          if (card.uploadKey) { save(card); } else { queueSend(card); }
        }
      }
    });
    summary.textContent = "Adding…";
    refresh();
  }
})();
