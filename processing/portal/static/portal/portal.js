// The portal's few behaviours: uploads with progress, selection, one-click start, live progress.
(function () {
  "use strict";

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function toast(text, kind, lines) {
    const box = document.getElementById("toasts");
    const item = document.createElement("div");
    item.className = "toast toast-" + (kind || "info");
    item.textContent = text;
    (lines || []).forEach(function (line) {
      const reason = document.createElement("div");
      reason.className = "reason";
      reason.textContent = line;
      item.appendChild(reason);
    });
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 12000);
  }

  function seconds(value) {
    if (value == null) return "";
    if (value < 60) return "about " + Math.max(1, Math.round(value)) + " s left";
    return "about " + Math.round(value / 60) + " min left";
  }

  // --- Vendor switcher submits on change.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
  });

  // --- Uploads: one request per file, so each file has its own progress bar.
  function uploadOne(url, file, onDone) {
    const list = document.getElementById("uploads");
    const row = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    const state = document.createElement("span");
    state.className = "upload-state";
    row.append(label, bar, state);
    list.appendChild(row);

    const data = new FormData();
    data.append("image", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) bar.value = Math.round((100 * event.loaded) / event.total);
    });
    xhr.addEventListener("load", function () {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 201) {
        bar.value = 100;
        state.textContent = "uploaded";
        row.classList.add("done");
        const grid = document.getElementById("grid");
        grid.insertAdjacentHTML("afterbegin", body.html);
        const empty = document.getElementById("grid-empty");
        if (empty) empty.remove();
      } else {
        state.textContent = body.detail || "upload failed";
        row.classList.add("failed");
      }
      onDone(xhr.status === 201);
    });
    xhr.addEventListener("error", function () {
      state.textContent = "upload failed: the connection was lost";
      row.classList.add("failed");
      onDone(false);
    });
    xhr.send(data);
  }

  function uploadAll(url, files) {
    const queue = Array.from(files);
    let running = 0, ok = 0, failed = 0;
    function next() {
      while (running < 2 && queue.length) {
        running += 1;
        uploadOne(url, queue.shift(), function (success) {
          running -= 1;
          if (success) ok += 1; else failed += 1;
          if (!queue.length && running === 0) {
            toast(ok + " uploaded" + (failed ? ", " + failed + " failed" : ""), failed ? "error" : "success");
            updateSelection();
          }
          next();
        });
      }
    }
    next();
  }

  function setUpUploads(project) {
    const url = project.dataset.uploadUrl;
    const input = document.getElementById("file-input");
    const zone = document.getElementById("dropzone");
    input.addEventListener("change", function () {
      if (input.files.length) uploadAll(url, input.files);
      input.value = "";
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer.files.length) uploadAll(url, event.dataTransfer.files);
    });
  }

  // --- Selection.
  function boxes() { return Array.from(document.querySelectorAll(".pick-box")); }

  function updateSelection() {
    const all = boxes();
    const chosen = all.filter(function (box) { return box.checked; }).length;
    const count = document.getElementById("selected-count");
    if (count) count.textContent = chosen + " selected";
    const selectAll = document.getElementById("select-all");
    if (selectAll) selectAll.checked = all.length > 0 && chosen === all.length;
  }

  function setUpSelection() {
    document.getElementById("select-all").addEventListener("change", function (event) {
      boxes().forEach(function (box) { box.checked = event.target.checked; });
      updateSelection();
    });
    document.addEventListener("change", function (event) {
      if (event.target.classList.contains("pick-box")) updateSelection();
    });
    const kind = document.getElementById("kind");
    kind.addEventListener("change", function () {
      document.querySelectorAll(".kind-options").forEach(function (set) {
        const on = set.dataset.kind === kind.value;
        set.hidden = !on;
        set.disabled = !on;
      });
    });
    updateSelection();
  }

  // --- Start: answered at once with the new batch; progress follows.
  function setUpStart() {
    const form = document.getElementById("start-form");
    const refusal = document.getElementById("start-refusal");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      refusal.hidden = true;
      if (!boxes().some(function (box) { return box.checked; })) {
        refusal.textContent = "Select at least one photo.";
        refusal.hidden = false;
        return;
      }
      const button = document.getElementById("start-button");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      })
        .then(function (response) { return response.json().then(function (body) { return [response.status, body]; }); })
        .then(function (pair) {
          const status = pair[0], body = pair[1];
          if (status === 202) {
            toast(body.message, "success");
            addBatch(body.batch);
          } else {
            refusal.textContent = body.detail || "The request was refused.";
            refusal.hidden = false;
            toast(refusal.textContent, "error");
          }
        })
        .catch(function () {
          refusal.textContent = "The server could not be reached; nothing was started.";
          refusal.hidden = false;
        })
        .finally(function () { button.disabled = false; });
    });
  }

  // --- Delete: the selected photos, after the user confirms; their cards go.
  function setUpDelete() {
    const form = document.getElementById("delete-form");
    if (!form) return;
    const refusal = document.getElementById("start-refusal");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      refusal.hidden = true;
      const chosen = boxes().filter(function (box) { return box.checked; });
      if (!chosen.length) {
        refusal.textContent = "Select at least one photo.";
        refusal.hidden = false;
        return;
      }
      const noun = chosen.length === 1 ? "photo" : "photos";
      if (!window.confirm("Delete " + chosen.length + " " + noun + " with their results? This cannot be undone.")) return;
      const body = new FormData(form);
      chosen.forEach(function (box) { body.append("records", box.value); });
      const button = document.getElementById("delete-button");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: body,
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      })
        .then(function (response) { return response.json().then(function (answer) { return [response.status, answer]; }); })
        .then(function (pair) {
          const status = pair[0], answer = pair[1];
          if (status === 200) {
            answer.deleted.forEach(function (id) {
              const card = document.querySelector('.record[data-record-id="' + id + '"]');
              if (card) card.remove();
            });
            updateSelection();
            toast(answer.message, "success");
          } else {
            refusal.textContent = answer.detail || "The request was refused.";
            refusal.hidden = false;
          }
        })
        .catch(function () {
          refusal.textContent = "The server could not be reached; nothing was deleted.";
          refusal.hidden = false;
        })
        .finally(function () { button.disabled = false; });
    });
  }

  // --- Live progress: server-sent events when available, else polling.
  function addBatch(snapshot) {
    const list = document.getElementById("batches");
    const empty = list.querySelector(".empty");
    if (empty) empty.remove();
    const item = document.getElementById("batch-template").content.firstElementChild.cloneNode(true);
    item.dataset.batchId = snapshot.id;
    item.dataset.statusUrl = snapshot.status_url;
    item.querySelector(".batch-kind").textContent = snapshot.kind;
    item.querySelector(".batch-total").textContent = snapshot.total + (snapshot.total === 1 ? " image" : " images");
    list.prepend(item);
    applyBatch(item, snapshot);
    track(item);
  }

  function applyJob(job) {
    const card = document.querySelector('.record[data-record-id="' + job.record + '"]');
    if (!card) return;
    card.dataset.jobId = job.id;
    card.dataset.state = job.state;
    const state = card.querySelector(".state");
    state.className = "state state-" + job.state;
    state.textContent = job.state + " · " + job.kind;
    const bar = card.querySelector(".job-bar");
    const active = job.state === "queued" || job.state === "running";
    bar.hidden = !active;
    bar.value = job.percent;
    card.querySelector(".eta").textContent = active ? seconds(job.seconds_left) : "";
    let reason = card.querySelector(".reason");
    if (job.state === "failed" && job.error) {
      if (!reason) {
        reason = document.createElement("p");
        reason.className = "reason";
        card.querySelector(".status").after(reason);
      }
      reason.textContent = job.error.message;
    } else if (reason) {
      reason.remove();
    }
    // The grid shows previews only; the full result is on the before/after page.
    if (job.state === "succeeded" && job.thumbnail_url) {
      const img = card.querySelector("img.processed");
      if (img.getAttribute("src") !== job.thumbnail_url) img.src = job.thumbnail_url;
      img.hidden = false;
      card.querySelector(".placeholder").hidden = true;
    } else if (job.state === "succeeded" && job.result_url) {
      card.querySelector(".placeholder").textContent = "Done · preview on its way";
    }
  }

  function applyBatch(item, snapshot) {
    snapshot.jobs.forEach(applyJob);
    item.querySelector(".batch-bar").value = snapshot.percent;
    item.querySelector(".zip").href = snapshot.download_url;
    const text = snapshot.finished + " of " + snapshot.total + " finished";
    item.querySelector(".batch-text").textContent = snapshot.done ? "finished: " + summary(snapshot) : text + (snapshot.seconds_left != null ? " · " + seconds(snapshot.seconds_left) : "");
    if (snapshot.done && !item.dataset.announced) {
      item.dataset.announced = "1";
      delete item.dataset.track;
      item.classList.add("finished");
      toast(summary(snapshot), snapshot.failed ? "error" : "success", snapshot.failure_reasons);
    }
  }

  function previewsReady(snapshot) {
    return snapshot.jobs.every(function (job) { return job.state !== "succeeded" || !job.result_url || job.thumbnail_url; });
  }

  function summary(snapshot) {
    return snapshot.succeeded + " of " + snapshot.total + " done, " + snapshot.failed + " failed";
  }

  function track(item) {
    let finished = false, pending = null, fetching = false;
    const events = document.getElementById("project").dataset.eventsUrl;

    function refresh() {
      if (fetching) { pending = pending || setTimeout(function () { pending = null; refresh(); }, 300); return; }
      fetching = true;
      return fetch(item.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (snapshot) {
          if (snapshot) { applyBatch(item, snapshot); finished = snapshot.done && previewsReady(snapshot); }
        })
        .catch(function () { /* the next event or poll tries again */ })
        .finally(function () { fetching = false; });
    }

    function poll() {
      Promise.resolve(refresh()).then(function () { if (!finished) setTimeout(poll, 1000); });
    }

    if (!events || !window.EventSource) { poll(); return; }
    const source = new EventSource(events + "?batch=" + encodeURIComponent(item.dataset.batchId));
    let throttle = null;
    function onEvent() {
      if (!throttle) throttle = setTimeout(function () { throttle = null; refresh(); }, 250);
    }
    source.addEventListener("job", onEvent);
    source.addEventListener("batch", onEvent);
    // The batch can end before the last previews are made: poll until they are there.
    source.addEventListener("end", function () {
      source.close();
      Promise.resolve(refresh()).then(function () { if (!finished) poll(); });
    });
    source.addEventListener("error", function () {
      source.close();
      if (!finished) poll();
    });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    const project = document.getElementById("project");
    if (!project) return;
    setUpUploads(project);
    setUpSelection();
    setUpStart();
    setUpDelete();
    document.querySelectorAll(".batch[data-track]").forEach(track);
  });
})();
