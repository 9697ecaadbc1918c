// The demo host page's own script: it calls the widget's API and lists the widget's events.
// Calls made before widget.js has loaded wait in the `salesbot` queue (see docs/protocol.md).
window.salesbot = window.salesbot || [];
document.addEventListener("DOMContentLoaded", function () {
  var events = document.getElementById("events");
  ["salesbot:ready", "salesbot:open", "salesbot:close", "salesbot:lead-qualified"].forEach(
    function (name) {
      window.addEventListener(name, function (event) {
        var item = document.createElement("li");
        item.textContent = name + " " + JSON.stringify(event.detail || {});
        events.appendChild(item);
      });
    }
  );
  document.getElementById("talk").addEventListener("click", function () {
    window.salesbot.push(["open"]);
  });
  document.getElementById("identify").addEventListener("click", function () {
    window.salesbot.push(["identify", { email: "jane@example.com", name: "Jane Doe" }]);
  });
});
