// Loads a vendored library (static/vendor/...) once, on the first page element that needs it.
const loaded = new Map();

export function loadStyle(href) {
  if (!document.querySelector(`link[href="${href}"]`)) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.appendChild(link);
  }
}

export function loadScript(src) {
  if (!loaded.has(src)) {
    loaded.set(src, new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.appendChild(script);
    }));
  }
  return loaded.get(src);
}

// The static folder's URL, from this module's own address (the app may be mounted under a prefix).
export const STATIC = new URL("..", import.meta.url).pathname;
