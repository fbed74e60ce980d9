/* Sen portal: start the IIIF viewer and the copy buttons. No framework. */
(function () {
  "use strict";
  var el = document.getElementById("viewer");
  if (el && window.Mirador) {
    window.senViewer = Mirador.viewer({
      id: "viewer",
      language: el.dataset.lang === "en" ? "en" : "vi",
      windows: [{ manifestId: el.dataset.manifest, thumbnailNavigationPosition: "far-bottom" }],
      window: { allowClose: false, allowMaximize: false, allowFullscreen: true,
                sideBarOpenByDefault: false, defaultSideBarPanel: "info" },
      workspaceControlPanel: { enabled: false },
      workspace: { showZoomControls: true },
    });
  }
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = button.dataset.copy ||
        document.getElementById(button.dataset.copyFrom).textContent.trim();
      var status = button.parentNode.querySelector(".copied");
      navigator.clipboard.writeText(text).then(function () {
        if (status) { status.textContent = document.documentElement.lang === "en" ? "Copied" : "Đã chép"; }
      });
    });
  });
})();
