/* What cffi is told about Tesseract's C API and Leptonica for tightbind._ocr.  The shim's
   own declarations are in csrc/ocr.h. */

/* ---- Leptonica (accessors only: struct fields are private since 1.83) ---- */
typedef ... PIX;
typedef ... PIXA;
typedef ... BOXA;
typedef ... BOX;
typedef int32_t l_int32;
typedef float l_float32;

#define IFF_PNG ...
#define IFF_JFIF_JPEG ...
#define IFF_TIFF ...
#define REMOVE_CMAP_BASED_ON_SRC ...
#define L_CLONE ...

PIX *pixReadMem(const uint8_t *data, size_t size);
PIX *pixReadMemFromMultipageTiff(const uint8_t *data, size_t size, size_t *poffset);
l_int32 pixaGetCount(PIXA *pixa);
PIX *pixaGetPix(PIXA *pixa, l_int32 index, l_int32 accesstype);
l_int32 boxaGetCount(BOXA *boxa);
PIX *pixCopy(PIX *pixd, const PIX *pixs);
BOX *boxCreate(l_int32 x, l_int32 y, l_int32 w, l_int32 h);
void boxDestroy(BOX **pbox);
PIX *pixClipRectangle(PIX *pixs, BOX *box, BOX **pboxc);

l_int32 pixGetWidth(const PIX *pix);
l_int32 pixGetHeight(const PIX *pix);
l_int32 pixGetDepth(const PIX *pix);
l_int32 pixGetSpp(const PIX *pix);
l_int32 pixGetXRes(const PIX *pix);
l_int32 pixGetYRes(const PIX *pix);
int pixSetResolution(PIX *pix, l_int32 xres, l_int32 yres);
void *pixGetColormap(PIX *pix);

PIX *pixRemoveColormap(PIX *pixs, l_int32 type);
PIX *pixConvertTo8(PIX *pixs, l_int32 cmapflag);
PIX *pixConvertTo32(PIX *pixs);
PIX *pixDeskew(PIX *pixs, l_int32 redsearch);
PIX *pixScale(PIX *pixs, l_float32 scalex, l_float32 scaley);
PIX *pixRotateOrth(PIX *pixs, l_int32 quads);
void lept_free(void *ptr);
char *getLeptonicaVersion(void);
char *getImagelibVersions(void);

/* ---- Tesseract 5 C API ---- */
typedef ... TessBaseAPI;
typedef ... TessPageIterator;
typedef ... TessResultIterator;
typedef ... TessResultRenderer;

typedef enum { OEM_TESSERACT_ONLY, OEM_LSTM_ONLY, OEM_TESSERACT_LSTM_COMBINED, OEM_DEFAULT,
               ... } TessOcrEngineMode;
typedef enum { PSM_OSD_ONLY, PSM_AUTO_OSD, PSM_AUTO_ONLY, PSM_AUTO, PSM_SINGLE_COLUMN,
               PSM_SINGLE_BLOCK_VERT_TEXT, PSM_SINGLE_BLOCK, PSM_SINGLE_LINE, PSM_SINGLE_WORD,
               PSM_CIRCLE_WORD, PSM_SINGLE_CHAR, PSM_SPARSE_TEXT, PSM_SPARSE_TEXT_OSD,
               PSM_RAW_LINE, PSM_COUNT, ... } TessPageSegMode;
typedef enum { RIL_BLOCK, RIL_PARA, RIL_TEXTLINE, RIL_WORD, RIL_SYMBOL,
               ... } TessPageIteratorLevel;
typedef enum { PT_UNKNOWN, PT_FLOWING_TEXT, PT_HEADING_TEXT, PT_PULLOUT_TEXT, PT_EQUATION,
               PT_INLINE_EQUATION, PT_TABLE, PT_VERTICAL_TEXT, PT_CAPTION_TEXT,
               PT_FLOWING_IMAGE, PT_HEADING_IMAGE, PT_PULLOUT_IMAGE, PT_HORZ_LINE,
               PT_VERT_LINE, PT_NOISE, PT_COUNT, ... } TessPolyBlockType;
typedef enum { ORIENTATION_PAGE_UP, ORIENTATION_PAGE_RIGHT, ORIENTATION_PAGE_DOWN,
               ORIENTATION_PAGE_LEFT, ... } TessOrientation;
typedef enum { WRITING_DIRECTION_LEFT_TO_RIGHT, WRITING_DIRECTION_RIGHT_TO_LEFT,
               WRITING_DIRECTION_TOP_TO_BOTTOM, ... } TessWritingDirection;
typedef enum { JUSTIFICATION_UNKNOWN, JUSTIFICATION_LEFT, JUSTIFICATION_CENTER,
               JUSTIFICATION_RIGHT, ... } TessParagraphJustification;
typedef enum { TEXTLINE_ORDER_LEFT_TO_RIGHT, TEXTLINE_ORDER_RIGHT_TO_LEFT,
               TEXTLINE_ORDER_TOP_TO_BOTTOM, ... } TessTextlineOrder;

const char *TessVersion(void);
void TessDeleteText(const char *text);
void TessDeleteTextArray(char **arr);
void TessDeleteIntArray(const int *arr);

TessBaseAPI *TessBaseAPICreate(void);
void TessBaseAPIDelete(TessBaseAPI *handle);
int TessBaseAPISetVariable(TessBaseAPI *handle, const char *name, const char *value);
int TessBaseAPIPrintVariablesToFile(const TessBaseAPI *handle, const char *filename);
int TessBaseAPIGetIntVariable(const TessBaseAPI *handle, const char *name, int *value);
int TessBaseAPIGetBoolVariable(const TessBaseAPI *handle, const char *name, int *value);
int TessBaseAPIGetDoubleVariable(const TessBaseAPI *handle, const char *name, double *value);
const char *TessBaseAPIGetStringVariable(const TessBaseAPI *handle, const char *name);
int TessBaseAPIInit4(TessBaseAPI *handle, const char *datapath, const char *language,
                     TessOcrEngineMode mode, char **configs, int configs_size,
                     char **vars_vec, char **vars_values, size_t vars_vec_size,
                     int set_only_non_debug_params);
const char *TessBaseAPIGetDatapath(TessBaseAPI *handle);
const char *TessBaseAPIGetInitLanguagesAsString(const TessBaseAPI *handle);
char **TessBaseAPIGetLoadedLanguagesAsVector(const TessBaseAPI *handle);
char **TessBaseAPIGetAvailableLanguagesAsVector(const TessBaseAPI *handle);
void TessBaseAPISetPageSegMode(TessBaseAPI *handle, TessPageSegMode mode);
TessPageSegMode TessBaseAPIGetPageSegMode(const TessBaseAPI *handle);
void TessBaseAPIClearAdaptiveClassifier(TessBaseAPI *handle);
void TessBaseAPIClear(TessBaseAPI *handle);
void TessBaseAPISetImage2(TessBaseAPI *handle, PIX *pix);
void TessBaseAPISetInputName(TessBaseAPI *handle, const char *name);
void TessBaseAPISetOutputName(TessBaseAPI *handle, const char *name);
void TessBaseAPISetSourceResolution(TessBaseAPI *handle, int ppi);
PIX *TessBaseAPIGetThresholdedImage(TessBaseAPI *handle);
BOXA *TessBaseAPIGetComponentImages(TessBaseAPI *handle, TessPageIteratorLevel level,
                                    int text_only, PIXA **pixa, int **blockids);
TessPageIterator *TessBaseAPIAnalyseLayout(TessBaseAPI *handle);
char *TessBaseAPIGetUTF8Text(TessBaseAPI *handle);
char *TessBaseAPIGetHOCRText(TessBaseAPI *handle, int page_number);
char *TessBaseAPIGetAltoText(TessBaseAPI *handle, int page_number);
char *TessBaseAPIGetTsvText(TessBaseAPI *handle, int page_number);
char *TessBaseAPIGetBoxText(TessBaseAPI *handle, int page_number);
char *TessBaseAPIGetUNLVText(TessBaseAPI *handle);
int TessBaseAPIMeanTextConf(TessBaseAPI *handle);
int *TessBaseAPIAllWordConfidences(TessBaseAPI *handle);
int TessBaseAPIIsValidWord(TessBaseAPI *handle, const char *word);
int TessBaseAPIGetTextDirection(TessBaseAPI *handle, int *out_offset, float *out_slope);
int TessBaseAPIDetectOrientationScript(TessBaseAPI *handle, int *orient_deg,
                                       float *orient_conf, const char **script_name,
                                       float *script_conf);
int TessBaseAPIProcessPage(TessBaseAPI *handle, PIX *pix, int page_index,
                           const char *filename, const char *retry_config,
                           int timeout_millisec, TessResultRenderer *renderer);

TessResultIterator *TessBaseAPIGetIterator(TessBaseAPI *handle);
int TessBaseAPIGetThresholdedImageScaleFactor(const TessBaseAPI *handle);

void TessPageIteratorDelete(TessPageIterator *handle);
void TessResultIteratorDelete(TessResultIterator *handle);
TessPageIterator *TessResultIteratorGetPageIterator(TessResultIterator *handle);

TessResultRenderer *TessTextRendererCreate(const char *outputbase);
TessResultRenderer *TessHOcrRendererCreate(const char *outputbase);
TessResultRenderer *TessHOcrRendererCreate2(const char *outputbase, int font_info);
TessResultRenderer *TessAltoRendererCreate(const char *outputbase);
TessResultRenderer *TessTsvRendererCreate(const char *outputbase);
TessResultRenderer *TessPDFRendererCreate(const char *outputbase, const char *datadir,
                                          int textonly);
TessResultRenderer *TessUnlvRendererCreate(const char *outputbase);
TessResultRenderer *TessBoxTextRendererCreate(const char *outputbase);
TessResultRenderer *TessLSTMBoxRendererCreate(const char *outputbase);
TessResultRenderer *TessWordStrBoxRendererCreate(const char *outputbase);
void TessDeleteResultRenderer(TessResultRenderer *renderer);
void TessResultRendererInsert(TessResultRenderer *renderer, TessResultRenderer *next);
int TessResultRendererBeginDocument(TessResultRenderer *renderer, const char *title);
int TessResultRendererAddImage(TessResultRenderer *renderer, TessBaseAPI *api);
int TessResultRendererEndDocument(TessResultRenderer *renderer);
