// Press and hold: the action runs only after the button is held for `ms`, so a brush cannot trigger it.
// Works with touch, mouse and keyboard (Space or Enter held); a plain click does nothing.

export function holdToActivate(button, ms, action) {
  let timer = null;
  button.style.setProperty("--hold-ms", `${ms}ms`);

  const start = () => {
    if (timer) return;
    button.classList.add("holding");
    timer = setTimeout(() => { stop(); action(); }, ms);
  };
  const stop = () => {
    clearTimeout(timer);
    timer = null;
    button.classList.remove("holding");
  };

  button.addEventListener("pointerdown", (event) => {
    button.setPointerCapture?.(event.pointerId);
    start();
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture", "blur"]) {
    button.addEventListener(type, stop);
  }
  button.addEventListener("keydown", (event) => {
    if ((event.key === " " || event.key === "Enter") && !event.repeat) { event.preventDefault(); start(); }
  });
  button.addEventListener("keyup", (event) => { if (event.key === " " || event.key === "Enter") stop(); });
  button.addEventListener("contextmenu", (event) => event.preventDefault());
}
