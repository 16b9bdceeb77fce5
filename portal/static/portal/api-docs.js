/* /api/docs/: Swagger UI on the portal's copy of infra/openapi.yaml. A static file, not an
   inline script, so the page keeps to a strict Content-Security-Policy. */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") { return; }
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    docExpansion: "list",
    deepLinking: true,
    defaultModelsExpandDepth: 0,
    validatorUrl: null, // no badge fetched from validator.swagger.io
    // No "Try it out": the API is another origin without CORS for the portal; use curl (README).
    supportedSubmitMethods: []
  });
})();
