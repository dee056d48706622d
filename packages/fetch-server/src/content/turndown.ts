/*! turndown (https://github.com/mixmark-io/turndown), MIT License, Copyright (c) 2017 Dom Christie. Bundled: see README "Bundled code". */
/**
 * Turndown's browser build, bundled into our dist. Its Node build loads
 * `@mixmark-io/domino` (an 8.8 MB install) at import time to parse HTML strings;
 * we only ever hand it linkedom nodes, which the browser build walks without
 * any DOM implementation of its own. So turndown is a dev dependency, and
 * neither it nor domino is installed for our users.
 */
import TurndownService from 'turndown/lib/turndown.browser.es.js';

export default TurndownService;
