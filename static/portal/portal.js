// Small behaviours that need no inline script (the Content-Security-Policy forbids it).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A submit button may ask its own question (e.g. "Reject" next to "Approve" in one form).
document.addEventListener(
  "submit",
  (event) => {
    const button = event.submitter;
    const question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);

// Issue 16: the group picker adds a picked Okta group id as a line of a list field.
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("[data-append-line]");
  if (!button) return;
  const field = document.getElementById(button.getAttribute("data-append-to"));
  if (!field) return;
  const line = button.getAttribute("data-append-line");
  const lines = field.value.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (!lines.includes(line)) lines.push(line);
  field.value = lines.join("\n");
  button.textContent = "Added";
  button.disabled = true;
});
