// Starts the portal's WebAssembly. This replaces Trunk's inline loader so the Content-Security-Policy
// can forbid inline scripts: Trunk writes the hashed file names onto the <script> tag that loads this
// file (see `pattern_script` in Trunk.toml).
const tag = document.querySelector('script[data-sealpost-js]');
const { default: init } = await import(tag.dataset.sealpostJs);
await init({ module_or_path: tag.dataset.sealpostWasm });
