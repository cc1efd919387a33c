// The bundled site's script: proves in a browser that scripts are served with a JavaScript type.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var status = document.getElementById("script-status");
  if (!status) return;
  status.textContent = "JavaScript ran: served by cork at " + new Date().toISOString() + ".";
  status.className = "status ok";
  document.body.setAttribute("data-script", "ran");
});
