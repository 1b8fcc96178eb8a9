// The floor's alarm: a tone made in the page (Web Audio), two notes every few seconds while an urgent alert
// waits for someone to acknowledge it. Browsers keep audio off until a first tap on the page, so the screen
// asks for one ("Enable sound") and says plainly while sound is off. The body's data attributes say what
// plays (data-sound on/off, data-alarm playing/quiet, data-audio the context's state, data-beeps a count),
// for the screen's style and for the tests.

const EVERY_MS = 4000;
const NOTES = [880, 660];   // Hz, 0.25 s each: a two-note call, not a continuous whine
const NOTE_S = 0.25;

let context = null;
let timer = null;
let beeps = 0;
const listeners = [];

/** On the first tap: make (or wake) the audio context. */
export async function enableSound() {
  context ??= new AudioContext();
  context.onstatechange = changed;
  try { await context.resume(); } catch { /* stays suspended: the screen keeps saying sound is off */ }
  changed();
}

export const soundOn = () => context?.state === "running";

/** Whether an urgent alert waits: the tone repeats until it does not. */
export function alarm(on) {
  document.body.dataset.alarm = on ? "playing" : "quiet";
  if (on && timer === null) {
    beep();
    timer = setInterval(beep, EVERY_MS);
  } else if (!on && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

export function onSoundChange(fn) { listeners.push(fn); }

function changed() {
  document.body.dataset.sound = soundOn() ? "on" : "off";
  document.body.dataset.audio = context?.state ?? "none";
  for (const fn of listeners) fn(soundOn());
}

function beep() {
  if (!soundOn()) return;
  const start = context.currentTime + 0.05;
  NOTES.forEach((frequency, i) => {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = "triangle";
    oscillator.frequency.value = frequency;
    const from = start + i * NOTE_S;
    gain.gain.setValueAtTime(0, from);
    gain.gain.linearRampToValueAtTime(0.5, from + 0.02);
    gain.gain.linearRampToValueAtTime(0, from + NOTE_S - 0.02);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(from);
    oscillator.stop(from + NOTE_S);
  });
  beeps += 1;
  document.body.dataset.beeps = String(beeps);
}
