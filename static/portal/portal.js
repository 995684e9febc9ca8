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
