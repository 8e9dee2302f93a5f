// Crosswalk's web UI: the little script there is. Every page works without it; it only
// adds conveniences (today: "All" and "None" for the report's resolution boxes).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const group of document.querySelectorAll(".select-all")) {
    const boxes = group.closest("fieldset").querySelectorAll('input[type="checkbox"]');
    for (const button of group.querySelectorAll("button[data-check]")) {
      button.addEventListener("click", () => {
        for (const box of boxes) box.checked = button.dataset.check === "all";
      });
    }
    group.hidden = false;
  }
});
