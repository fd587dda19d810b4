// Help text that explains how to find the serial port of a USB-connected ESP32 board.

/**
 * Builds the error text for a command that was run without `--port`.
 *
 * @param {string} npmScriptName The npm script the user ran, e.g. "flash" or "monitor".
 * @returns {string} Several lines: what is missing, how to find the port on Linux, macOS and Windows, and an example.
 */
export function formatMissingPortHelp(npmScriptName) {
  return [
    "Missing --port: give the serial port of the ESP32 board.",
    "",
    "Find it by listing the ports before and after plugging in the USB cable:",
    "  Linux:   ls /dev/ttyUSB* /dev/ttyACM*   (CP210x and CH340 bridges appear as /dev/ttyUSB0)",
    "           If opening it is denied, add your user to the dialout group (uucp on Arch) and log in again.",
    "  macOS:   ls /dev/cu.*   (CP210x: /dev/cu.SLAB_USBtoUART or /dev/cu.usbserial-XXXX;",
    "           CH340: /dev/cu.wchusbserialXXXX or /dev/cu.usbserial-XXXX)",
    "  Windows: Device Manager > Ports (COM & LPT) shows e.g. \"Silicon Labs CP210x ... (COM3)\", or in PowerShell:",
    "           [System.IO.Ports.SerialPort]::GetPortNames()",
    "If no new port appears, install the USB serial driver for the bridge chip on the board (CP210x or CH340)",
    "or try another cable: many USB cables carry power only.",
    "",
    `Example: npm run ${npmScriptName} -- --port /dev/ttyUSB0`,
  ].join("\n");
}
