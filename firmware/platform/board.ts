// The board's status LED (GPIO 2) and BOOT button (GPIO 0).
//
// The ESP32 enters its serial download mode when GPIO 0 is low as it leaves reset, so the button cannot be held
// "at power-on" in the strict sense. The firmware samples it during the first seconds after start instead: pressing
// BOOT right after releasing EN, or right after plugging in, is what makes it forget the cached assignment.

/** How long after start the BOOT button is watched, in ms. */
export const BOOT_BUTTON_WINDOW_MS = 3000;

const BOOT_BUTTON_SAMPLE_MS = 50;

/** LED patterns: on and off times in ms; an off time of 0 means steady on, an on time of 0 steady off. */
const LED_PATTERNS: { [name: string]: number[] } = {
  off: [0, 1000],
  working: [500, 500],
  assigned: [1000, 0],
  failed: [100, 100],
};

let ledTimer: number | undefined = undefined;
let ledPattern = "off";

function showLedStep(on: boolean): void {
  const pattern = LED_PATTERNS[ledPattern];
  const onMs = pattern[0];
  const offMs = pattern[1];

  let lit = on;
  if (offMs === 0) lit = true;
  else if (onMs === 0) lit = false;
  digitalWrite(D2, lit ? 1 : 0);
  if (onMs === 0 || offMs === 0) return;
  ledTimer = setTimeout(() => {
    ledTimer = undefined;
    showLedStep(!on);
  }, on ? onMs : offMs);
}

/**
 * Shows a state on the status LED.
 *
 * @param pattern "off", "working" (1 Hz blink: connecting or provisioning), "assigned" (steady on) or "failed"
 *   (5 Hz blink: the configuration or the provisioning needs the user).
 */
export function setStatusLed(pattern: string): void {
  if (LED_PATTERNS[pattern] === undefined || pattern === ledPattern) return;
  if (ledTimer !== undefined) clearTimeout(ledTimer);
  ledTimer = undefined;
  ledPattern = pattern;
  showLedStep(true);
}

/**
 * Watches the BOOT button for `BOOT_BUTTON_WINDOW_MS` after start and reports a press once.
 *
 * @param onPressed Called at most once, when the button reads low (pressed) during the window.
 */
export function watchBootButton(onPressed: () => void): void {
  pinMode(D0, "input_pullup");
  let elapsedMs = 0;

  const timer = setInterval(() => {
    elapsedMs += BOOT_BUTTON_SAMPLE_MS;
    if (digitalRead(D0) === 0) {
      clearInterval(timer);
      onPressed();
    } else if (elapsedMs >= BOOT_BUTTON_WINDOW_MS) {
      clearInterval(timer);
    }
  }, BOOT_BUTTON_SAMPLE_MS);
}
