/* Add page, progressively enhanced: many files by drag-and-drop or picker, one metadata
   block per file prefilled from the file's own EXIF/IPTC (read by the server); each file goes
   straight to the storage through a presigned POST with its own progress bar, then the
   server verifies it; a failed file can be tried again. Without this script the page is a
   plain one-file form posted to the portal. */
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
  var listUrl = form.dataset.listUrl;
  var cards = [];
  var counter = 0;
  var PREFILL_BYTES = 2 * 1024 * 1024;

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
    '  <button type="button" class="default button" id="upload-all">Upload</button>' +
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
  uploadAll.addEventListener("click", function () { startUploads(); });

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
      var card = { file: file, node: node, inputs: {}, state: "ready" };
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
        upload(card).then(refresh);
        refresh();
      });
      node.querySelector(".file-remove").addEventListener("click", function () {
        if (card.state === "uploading") { return; }
        cards.splice(cards.indexOf(card), 1);
        node.remove();
        refresh();
      });
      cards.push(card);
      list.appendChild(node);
      // A title to start from, until the file's own metadata (if any) answers.
      setFromFile(card, "title", file.name.replace(/\.[^.]+$/, "").replace(/[_-]+/g, " "), "from file name");
      prefill(card);
    });
    refresh();
  }

  function noPreview() {
    var box = document.createElement("div");
    box.className = "file-preview no-preview";
    box.textContent = "No preview";
    return box;
  }

  function prefill(card) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrf);
    data.append("image", card.file.slice(0, PREFILL_BYTES), card.file.name);
    fetch(metadataUrl, { method: "POST", body: data, headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (found) {
        FIELDS.forEach(function (name) { setFromFile(card, name, found[name], "from file"); });
      })
      .catch(function () { /* prefill is a convenience */ });
  }

  function refresh() {
    var waiting = cards.filter(function (c) { return c.state === "ready" || c.state === "failed"; }).length;
    submitRow.hidden = cards.length === 0;
    uploadAll.textContent = waiting === 1 ? "Upload 1 file" : "Upload " + waiting + " files";
    uploadAll.disabled = waiting === 0;
    var done = cards.filter(function (c) { return c.state === "done"; }).length;
    var failed = cards.filter(function (c) { return c.state === "failed"; }).length;
    var busy = cards.filter(function (c) { return c.state === "uploading"; }).length;
    if (!busy && (done || failed)) {
      summary.innerHTML = "";
      summary.appendChild(document.createTextNode(done + " uploaded" + (failed ? ", " + failed + " refused (see why below each file). " : ". ")));
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

  function portalForm() {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrf);
    return data;
  }

  function succeed(card, body) {
    var node = card.node;
    card.state = "done";
    node.querySelector(".file-progress").value = 100;
    node.classList.add("done");
    var status = node.querySelector(".file-status");
    status.textContent = "Uploaded and checked. ";
    var link = document.createElement("a");
    link.href = body.change_url;
    link.textContent = "Open “" + body.title + "”";
    status.appendChild(link);
    Object.keys(card.inputs).forEach(function (k) { card.inputs[k].disabled = true; });
    node.querySelector(".file-remove").hidden = true;
  }

  function fail(card, answer) {
    var node = card.node;
    var body = answer.body;
    card.state = "failed";
    node.querySelector(".file-progress").value = 0;
    node.classList.add("failed");
    node.querySelector(".file-retry").hidden = false;
    var status = node.querySelector(".file-status");
    if (answer.status === 0) {
      status.textContent = "The connection failed.";
      body = { message: "The file could not be sent. Press “Try again”." };
    } else {
      status.textContent = answer.status === 413 ? "Refused: the file is too large." : "Refused: see why below.";
    }
    if (answer.status === 403 || (answer.status >= 300 && answer.status < 400) || (!body && answer.status === 200)) {
      body = { message: "Your session has ended. Sign in again in another tab, then press “Try again”." };
    } else if (!body) {
      body = { message: "The file could not be taken (HTTP " + answer.status + "). Press “Try again”." };
    }
    showErrors(card, body);
  }

  // Three steps, as the REST API's clients do: a presigned form from the portal, the file
  // straight to the storage (its own progress bar), then the portal verifies and registers it.
  function upload(card) {
    var node = card.node;
    var progress = node.querySelector(".file-progress");
    var status = node.querySelector(".file-status");
    node.classList.remove("failed");
    node.querySelector(".file-errors").hidden = true;
    node.querySelector(".file-retry").hidden = true;
    Array.prototype.forEach.call(node.querySelectorAll(".form-row.errors"), function (r) { r.classList.remove("errors"); });
    card.state = "uploading";
    progress.value = 0;
    status.textContent = "Preparing…";
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
      status.textContent = "Uploading…";
      return send(grant.url, data, function (e) {
        if (e.lengthComputable) { progress.value = Math.round((e.loaded / e.total) * 98); }
      }).then(function (stored) {
        if (stored.status < 200 || stored.status >= 300) {
          return fail(card, { status: stored.status || 0, body: stored.status ? {
            message: "The storage refused the file (HTTP " + stored.status + "). Press “Try again”." } : null });
        }
        progress.value = 99;
        status.textContent = "Checking the file…";
        var register = portalForm();
        FIELDS.forEach(function (name) { register.append(name, card.inputs[name].value); });
        register.append("upload_key", grant.upload_key);
        register.append("filename", card.file.name);
        return send(registerUrl, register).then(function (made) {
          if (made.status === 201 && made.body) { succeed(card, made.body); } else { fail(card, made); }
        });
      });
    });
  }

  function startUploads() {
    var queue = cards.filter(function (c) { return c.state === "ready" || c.state === "failed"; });
    var running = 0;
    uploadAll.disabled = true;
    summary.textContent = "Uploading " + queue.length + (queue.length === 1 ? " file…" : " files…");
    function next() {
      while (running < 3 && queue.length) {
        running += 1;
        upload(queue.shift()).then(function () { running -= 1; refresh(); next(); });
      }
      refresh();
    }
    next();
  }
})();
