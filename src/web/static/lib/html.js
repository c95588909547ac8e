// @ts-check
// One import for every page: htm bound to preact, and the hooks.
export { html, render } from 'htm/preact';
export { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
